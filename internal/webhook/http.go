package webhook

import (
	"net/http"
	"time"
)

// HTTPHandler serves the receiver over net/http (the embedded shape).
func HTTPHandler(r *Receiver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// A slow sender must not hold a handler forever. Not every
		// ResponseWriter supports deadlines; the server's own timeouts then apply.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(r.cfg.BodyTimeout))
		resp := r.Handle(req.Context(), Request{
			Method:        req.Method,
			Header:        req.Header,
			Body:          req.Body,
			ContentLength: req.ContentLength,
		})
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	})
}
