-- 0010: one language per customer: every mail to a customer's contacts
-- (acknowledgements, quotes and confirmations asked, appointments,
-- sign-in links when the browser states no preference) is written in it.
-- '' : the desk's default language.
ALTER TABLE customers ADD COLUMN language TEXT NOT NULL DEFAULT '';
