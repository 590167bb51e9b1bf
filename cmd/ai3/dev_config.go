package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// devSetting is one setting of `ai3 dev`: its environment name (the name
// Probot users know where there is one), its flag, and whether it is a
// secret (never printed, never a flag: command lines show up in ps).
type devSetting struct {
	Name    string // environment (and .env) name
	Flag    string // flag name, "" when the setting has none
	Usage   string // one line for --help
	Secret  bool
	DataDir string // file in the data directory that may hold it, "" none
}

// devSettings lists every setting of `ai3 dev` read from flags, the
// environment or .env, in the order --help and the summary show them.
func devSettings() []devSetting {
	return []devSetting{
		{Name: "APP_ID", Flag: "app-id", Usage: "GitHub App id; with PRIVATE_KEY_PATH it turns sandbox mode off"},
		{Name: "PRIVATE_KEY_PATH", Flag: "private-key-path", Usage: "the App's private key (PEM file downloaded from GitHub)"},
		{Name: "WEBHOOK_SECRET", Usage: "webhook secret (default: DATA/webhook-secret, created on first run)", Secret: true, DataDir: "webhook-secret"},
		{Name: "GITHUB_CLIENT_ID", Flag: "client-id", Usage: "OAuth client id of the App (sandbox mode: the stand-in's)"},
		{Name: "GITHUB_CLIENT_SECRET", Usage: "OAuth client secret (or DATA/" + clientSecretFile + ", mode 0600)", Secret: true, DataDir: clientSecretFile},
		{Name: "GHE_HOST", Flag: "ghe-host", Usage: "GitHub Enterprise Server host name (sets both URLs below)"},
		{Name: "GITHUB_API_URL", Flag: "github-api-url", Usage: "REST API root (default https://api.github.com/)"},
		{Name: "GITHUB_URL", Flag: "github-url", Usage: "web root for OAuth (default https://github.com)"},
		{Name: "GITHUB_ORG", Flag: "org", Usage: "organization whose members may run commands"},
		{Name: "BOT_HANDLE", Flag: "bot", Usage: "the handle people mention (default ai3-mvp)"},
		{Name: "PUBLIC_URL", Flag: "public-url", Usage: "address GitHub and browsers reach this server at (default http://ADDR)"},
		{Name: "AI3_OAUTH_REDIRECT_URL", Flag: "oauth-redirect-url", Usage: "OAuth callback URL (default PUBLIC_URL/oauth/callback when PUBLIC_URL is set)"},
	}
}

// Where a setting's value came from.
const (
	fromFlag    = "flag"
	fromEnv     = "environment"
	fromDotEnv  = ".env"
	fromDataDir = "data directory"
	fromDefault = "default"
)

// devValue is a setting's resolved value and where it came from ("" when
// unset). A secret kept in a data-directory file has an empty Value: the
// part that uses it reads the file, so a rotation needs no restart.
type devValue struct {
	Value  string
	Source string
	Detail string // e.g. the file it came from
}

// devConfig is every setting of one `ai3 dev` run, resolved once before the
// parts mount; the parts read it instead of the environment.
type devConfig struct {
	Addr, DataDir string
	Sandbox       bool // --sandbox
	// FlagsSet are the flags given on the command line (for the summary).
	FlagsSet map[string]bool
	EnvFile  string // the .env file read, "" when none
	// Ignored are the .env names that are not settings (typos show here).
	Ignored []string
	values  map[string]devValue
}

// devConfigInput is what a configuration is resolved from.
type devConfigInput struct {
	Flags   map[string]string // set flags by setting name (only those given)
	Lookup  func(string) (string, bool)
	EnvFile string // path; "" reads .env in the working directory if present
	// EnvFileRequired makes a missing EnvFile an error (--env-file given).
	EnvFileRequired bool
	Addr, DataDir   string
	Sandbox         bool
	FlagsSet        map[string]bool // every flag given, by flag name
}

// Get returns a setting's value ("" when unset or kept in a file).
func (c *devConfig) Get(name string) string { return c.values[name].Value }

// Lookup returns a setting's value and source.
func (c *devConfig) Lookup(name string) devValue { return c.values[name] }

// set records a value resolved after the configuration (the defaults that
// need the listening address).
func (c *devConfig) set(name string, v devValue) { c.values[name] = v }

// HasApp reports whether a real GitHub App is configured.
func (c *devConfig) HasApp() bool { return c.Get("APP_ID") != "" && c.Get("PRIVATE_KEY_PATH") != "" }

// resolveDevConfig resolves every setting: flags win over the environment,
// the environment over .env, and .env over a data-directory file. Values
// are checked here, so a mistake stops the start with a message that names
// the setting and its source.
func resolveDevConfig(in devConfigInput) (*devConfig, error) {
	if in.Lookup == nil {
		in.Lookup = func(string) (string, bool) { return "", false }
	}
	c := &devConfig{Addr: in.Addr, DataDir: in.DataDir, Sandbox: in.Sandbox, FlagsSet: in.FlagsSet, values: map[string]devValue{}}
	path := in.EnvFile
	if path == "" {
		path = ".env"
	}
	dot, err := readDotEnvFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !in.EnvFileRequired:
	case err != nil:
		return nil, err
	default:
		c.EnvFile = path
	}
	known := map[string]bool{}
	for _, s := range devSettings() {
		known[s.Name] = true
		if v, ok := in.Flags[s.Name]; ok && s.Flag != "" {
			c.values[s.Name] = devValue{Value: v, Source: fromFlag, Detail: "--" + s.Flag}
		} else if v, ok := in.Lookup(s.Name); ok && v != "" {
			c.values[s.Name] = devValue{Value: v, Source: fromEnv}
		} else if v, ok := dot[s.Name]; ok && v != "" {
			c.values[s.Name] = devValue{Value: v, Source: fromDotEnv, Detail: c.EnvFile}
		} else if s.DataDir != "" && in.DataDir != "" {
			p := filepath.Join(in.DataDir, s.DataDir)
			if _, err := os.Stat(p); err == nil {
				c.values[s.Name] = devValue{Source: fromDataDir, Detail: p}
			} else if s.Name == "WEBHOOK_SECRET" {
				c.values[s.Name] = devValue{Source: fromDataDir, Detail: p + ", created at start"}
			}
		}
	}
	for k := range dot {
		if !known[k] {
			c.Ignored = append(c.Ignored, k)
		}
	}
	slices.Sort(c.Ignored)
	if c.Get("BOT_HANDLE") == "" {
		c.values["BOT_HANDLE"] = devValue{Value: "ai3-mvp", Source: fromDefault}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// check refuses values that cannot work, naming the setting and its source.
func (c *devConfig) check() error {
	bad := func(name, why string) error {
		v := c.values[name]
		from := v.Source
		if v.Detail != "" {
			from += " " + v.Detail
		}
		return fmt.Errorf("%s (from %s) %s", name, from, why)
	}
	if v := c.Get("APP_ID"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
			return bad("APP_ID", fmt.Sprintf("is %q: want the App's numeric id (the App's settings page, \"App ID\")", v))
		}
	}
	if p := c.Get("PRIVATE_KEY_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return bad("PRIVATE_KEY_PATH", fmt.Sprintf("cannot be read: %v", err))
		}
	}
	for _, name := range []string{"PUBLIC_URL", "GITHUB_API_URL", "GITHUB_URL", "AI3_OAUTH_REDIRECT_URL"} {
		v := c.Get(name)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad(name, fmt.Sprintf("is %q: want an http(s) URL such as https://example.com", v))
		}
	}
	if h := c.Get("GHE_HOST"); strings.ContainsAny(h, "/:") {
		return bad("GHE_HOST", fmt.Sprintf("is %q: want a host name only, such as github.example.com", h))
	}
	return nil
}

// applyDefaults fills what depends on the listening address: PUBLIC_URL
// (this server's own address) and, when PUBLIC_URL was set, the OAuth
// callback under it.
func (c *devConfig) applyDefaults(listenURL string) {
	public := c.values["PUBLIC_URL"]
	if public.Value == "" {
		c.set("PUBLIC_URL", devValue{Value: listenURL, Source: fromDefault, Detail: "the listening address"})
	} else if c.Get("AI3_OAUTH_REDIRECT_URL") == "" {
		c.set("AI3_OAUTH_REDIRECT_URL", devValue{Value: strings.TrimSuffix(public.Value, "/") + "/oauth/callback",
			Source: fromDefault, Detail: "PUBLIC_URL"})
	}
}

// flagSource says whether a flag-only setting was given or defaulted.
func (c *devConfig) flagSource(flag string) string {
	if c.FlagsSet[flag] {
		return fromFlag
	}
	return fromDefault
}

// PublicURL is the address GitHub and browsers reach this server at.
func (c *devConfig) PublicURL() string { return strings.TrimSuffix(c.Get("PUBLIC_URL"), "/") }

// printSummary writes the start-up summary: each setting's value — for a
// secret only "set" — and where it came from; then, with a real App and no
// public address, how GitHub's webhooks can reach this machine.
func (c *devConfig) printSummary(out io.Writer, sandbox bool) {
	mode := "a GitHub App"
	if sandbox {
		mode = "sandbox mode, the built-in GitHub stand-in"
	}
	fmt.Fprintf(out, "ai3 dev configuration — %s:\n", mode)
	tw := tabwriter.NewWriter(out, 2, 0, 2, ' ', 0)
	src := func(v devValue) string {
		if v.Detail != "" && v.Detail != v.Source {
			return v.Source + " (" + v.Detail + ")"
		}
		return v.Source
	}
	fmt.Fprintf(tw, "  --addr\t%s\t%s\n", c.Addr, c.flagSource("addr"))
	fmt.Fprintf(tw, "  --data\t%s\t%s\n", c.DataDir, c.flagSource("data"))
	for _, s := range devSettings() {
		v := c.values[s.Name]
		shown := v.Value
		switch {
		case v.Source == "":
			shown, v.Source = "-", "unset"
		case s.Secret:
			shown = "set"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, shown, src(v))
	}
	_ = tw.Flush()
	if c.EnvFile != "" {
		fmt.Fprintf(out, "  read %s", c.EnvFile)
		if len(c.Ignored) > 0 {
			fmt.Fprintf(out, "; ignored names that are no setting of ai3 dev: %s", strings.Join(c.Ignored, ", "))
		}
		fmt.Fprintln(out)
	}
	if c.HasApp() && !sandbox && c.values["PUBLIC_URL"].Source == fromDefault {
		fmt.Fprintf(out, "ai3 dev: GitHub cannot reach %s. To receive the App's webhooks, expose this server and set its\n"+
			"  address as the App's webhook URL (PUBLIC_URL/webhook), then restart with --public-url URL:\n"+
			"    cloudflared tunnel --url %s        (prints an https://….trycloudflare.com address)\n"+
			"    ssh -R 80:%s serveo.net             (or any ssh -R tunnel to a host of yours)\n"+
			"    npx smee-client --url https://smee.io/NEW --target %s/webhook\n",
			c.PublicURL(), c.PublicURL(), strings.TrimPrefix(c.PublicURL(), "http://"), c.PublicURL())
	}
}

// devEnvHelp is the environment section of `ai3 dev --help`.
func devEnvHelp() string {
	var b bytes.Buffer
	b.WriteString("Settings come from flags, the environment and a .env file (KEY=VALUE lines; --env-file);\n" +
		"flags win over the environment, the environment over .env. Secrets are read from the\n" +
		"environment, .env or the data directory only, and never printed.\n\nEnvironment:\n")
	tw := tabwriter.NewWriter(&b, 2, 0, 2, ' ', 0)
	for _, s := range devSettings() {
		flag := ""
		if s.Flag != "" {
			flag = "--" + s.Flag
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, flag, s.Usage)
	}
	_ = tw.Flush()
	return b.String()
}

// readDotEnvFile reads a .env file (see parseDotEnv).
func readDotEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("env file %s: %w", path, err)
		}
		return nil, fmt.Errorf("read env file: %w", err)
	}
	m, err := parseDotEnv(b)
	if err != nil {
		return nil, fmt.Errorf("env file %s: %w", path, err)
	}
	return m, nil
}

// parseDotEnv reads KEY=VALUE lines as dotenv does: blank lines and lines
// starting with # are skipped, "export " before a key is allowed, a value
// may be in single quotes (taken as is) or double quotes (\n, \", \\
// escapes), and an unquoted value ends at " #". A line that is none of
// these is an error naming its number; values never appear in errors.
func parseDotEnv(b []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validEnvName(key) {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", n)
		}
		v, err := dotEnvValue(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", n, key, err)
		}
		out[key] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func dotEnvValue(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch q := v[0]; q {
	case '\'', '"':
		end := -1
		for i := 1; i < len(v); i++ {
			if q == '"' && v[i] == '\\' {
				i++
				continue
			}
			if v[i] == q {
				end = i
				break
			}
		}
		if end < 0 {
			return "", errors.New("the quote is not closed (values are one line)")
		}
		if rest := strings.TrimSpace(v[end+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
			return "", errors.New("text after the closing quote")
		}
		inner := v[1:end]
		if q == '\'' {
			return inner, nil
		}
		return strings.NewReplacer(`\n`, "\n", `\"`, `"`, `\\`, `\`).Replace(inner), nil
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v, nil
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}
