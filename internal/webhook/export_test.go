package webhook

// UnverifiedHeld is how many bytes of unverified bodies r holds now.
func UnverifiedHeld(r *Receiver) int64 { return r.unverified.held() }
