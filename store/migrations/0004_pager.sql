-- 0004: what a send announces. 'page' is a page of the escalation (due only
-- while its page is active); 'escalation.exhausted' (the fallback, paged when
-- nobody acknowledged) and 'ticket.acknowledged' (the webhook's notice of an
-- acknowledgement) are delivered whatever the page's state.
ALTER TABLE sends ADD COLUMN event TEXT NOT NULL DEFAULT 'page';
