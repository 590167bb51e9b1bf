package webhook

import (
	"net/http"
)

// HTTPHandler serves the receiver over net/http (the embedded shape).
func HTTPHandler(r *Receiver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
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
