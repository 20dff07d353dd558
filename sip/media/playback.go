package media

import "context"

// Start queues pcm like Play but returns at once, so that the call's
// goroutine can wait on the playback, key presses and hang-up in one select
// (barge-in without another goroutine). The returned channel is closed once
// the prompt has been sent, or dropped because ctx was cancelled (cancel ctx
// to stop the prompt now) or the session ended. Start blocks only while a
// previous prompt is still playing.
func (s *Session) Start(ctx context.Context, pcm []int16) <-chan struct{} {
	r := &playRequest{ctx: ctx, pcm: pcm, done: make(chan struct{})}
	if len(pcm) == 0 || ctx.Err() != nil {
		close(r.done)
		return r.done
	}
	select {
	case s.plays <- r:
	case <-ctx.Done():
		close(r.done)
	case <-s.done:
		close(r.done)
	}
	return r.done
}
