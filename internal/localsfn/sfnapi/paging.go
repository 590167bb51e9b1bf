package sfnapi

import (
	"encoding/base64"
	"strings"
)

// pageRequest is the maxResults and nextToken of a List or Get operation.
type pageRequest struct {
	MaxResults *int   `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

func (p *pageRequest) check(max int) error {
	var v validation
	v.between("maxResults", p.MaxResults, 0, max)
	if p.NextToken != "" {
		v.length("nextToken", p.NextToken, 1, 1024)
	}
	return v.err()
}

// limit is maxResults, or def when it is absent or 0 (AWS's "default").
func (p *pageRequest) limit(def int) int {
	if p.MaxResults == nil || *p.MaxResults == 0 {
		return def
	}
	return *p.MaxResults
}

// after returns where the page starts: 0 without a token, else the index
// find gives for the token's key (n when find finds none: the last page
// was full).
func (p *pageRequest) after(find func(key string) int, n int) (int, error) {
	if p.NextToken == "" {
		return 0, nil
	}
	key, err := decodeToken(p.NextToken)
	if err != nil {
		return 0, err
	}
	if i := find(key); i >= 0 {
		return i, nil
	}
	return n, nil
}

// tokenPrefix marks the pagination tokens this server issued.
const tokenPrefix = "ai3sfn1."

// encodeToken makes a nextToken from the key of the last item returned: the
// next page starts after it even when items were added meanwhile.
func encodeToken(key string) string {
	return tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(key))
}

func decodeToken(token string) (string, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	key, err := base64.RawURLEncoding.DecodeString(rest)
	if !ok || err != nil {
		return "", &apiError{Type: "InvalidToken", Message: "Invalid Token: 'Invalid nextToken'"}
	}
	return string(key), nil
}

// withToken adds nextToken to a response when there is one.
func withToken(doc map[string]any, next string) map[string]any {
	if next != "" {
		doc["nextToken"] = next
	}
	return doc
}
