package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// DeviceCode is GitHub's answer to starting a device flow.
type DeviceCode struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	ExpiresIn       int    `json:"expires_in"`
	Interval        int    `json:"interval"`
}

var (
	// ErrDeviceExpired means the user did not enter the code in time.
	ErrDeviceExpired = errors.New("the login code expired before it was entered: run `ai3 login` again")
	// ErrAccessDenied means the user cancelled the authorization.
	ErrAccessDenied = errors.New("the login was cancelled on GitHub")
)

// StartDevice begins a device flow: show the user UserCode and VerificationURI.
func (c *Client) StartDevice(ctx context.Context, scopes []string) (DeviceCode, error) {
	f := url.Values{"client_id": {c.cfg.ClientID}}
	if len(scopes) > 0 {
		f.Set("scope", strings.Join(scopes, " "))
	}
	var dc struct {
		DeviceCode
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := c.post(ctx, c.cfg.BaseURL+"/login/device/code", f, &dc); err != nil {
		return DeviceCode{}, fmt.Errorf("start device login: %w", err)
	}
	if dc.Error != "" {
		return DeviceCode{}, fmt.Errorf("start device login: %w", &Error{Code: dc.Error, Description: dc.ErrorDescription})
	}
	if dc.DeviceCode.DeviceCode == "" || dc.UserCode == "" {
		return DeviceCode{}, errors.New("start device login: GitHub sent no device code")
	}
	return dc.DeviceCode, nil
}

// PollDevice polls until the user approves (returning the grant), denies
// (ErrAccessDenied) or the code expires (ErrDeviceExpired). It waits the
// given interval between polls, five seconds more after each slow_down, using
// wait (nil: a real timer honouring ctx).
func (c *Client) PollDevice(ctx context.Context, dc DeviceCode, wait func(context.Context, time.Duration) error) (tokens.Grant, error) {
	if wait == nil {
		wait = sleep
	}
	interval := time.Duration(max(dc.Interval, 1)) * time.Second
	f := url.Values{"client_id": {c.cfg.ClientID}, "device_code": {dc.DeviceCode},
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}
	for {
		if err := wait(ctx, interval); err != nil {
			return tokens.Grant{}, fmt.Errorf("device login: %w", err)
		}
		g, newInterval, err := c.token(ctx, f)
		var oe *Error
		if !errors.As(err, &oe) {
			if err != nil {
				return tokens.Grant{}, fmt.Errorf("device login: %w", err)
			}
			return g, nil
		}
		switch oe.Code {
		case "authorization_pending":
		case "slow_down":
			if newInterval > 0 {
				interval = time.Duration(newInterval) * time.Second
			} else {
				interval += 5 * time.Second
			}
		case "expired_token", "token_expired":
			return tokens.Grant{}, ErrDeviceExpired
		case "access_denied":
			return tokens.Grant{}, ErrAccessDenied
		default:
			return tokens.Grant{}, fmt.Errorf("device login: %w", oe)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
