package media

import "context"

// Start queues pcm like Play but returns at once, so that the call's
// goroutine can wait on the playback, key presses and hang-up in one select
// (barge-in without another goroutine). The returned channel is closed once
// the prompt has been sent, or dropped because ctx was cancelled (cancel ctx
// to stop the prompt now) or the session ended. Start blocks only while a
// previous prompt is still playing.
func (s *Session) Start(ctx context.Context, pcm []int16) <-chan struct{} {
	if len(pcm) == 0 || ctx.Err() != nil || s.stopped.Load() {
		done := make(chan struct{})
		close(done)
		return done
	}
	return s.enqueue(ctx, pcm).done
}
