package credentials

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Options configures a discovery.
type Options struct {
	// Home replaces the user's home directory (~) when set. The agents'
	// own directory variables (CLAUDE_CONFIG_DIR, CODEX_HOME,
	// XDG_DATA_HOME) are honoured only when it is empty.
	Home string
	// NoOAuth skips OAuth tokens (env and files): API keys only.
	NoOAuth bool
	// Getenv reads the environment; os.Getenv when nil.
	Getenv func(string) string
	// Now is the clock expiries are checked against; time.Now when nil.
	Now func() time.Time
}

// Set is what a discovery found: one credential per provider slot, the
// first hit winning. Providers other than anthropic and openai (only
// OpenCode knows them) are in Other.
type Set struct {
	Anthropic *Credential           `json:"anthropic"`
	OpenAI    *Credential           `json:"openai"`
	Other     map[string]Credential `json:"other"`
}

// Get returns the credential of a provider.
func (s Set) Get(provider string) (Credential, bool) {
	switch provider {
	case "anthropic":
		if s.Anthropic != nil {
			return *s.Anthropic, true
		}
	case "openai":
		if s.OpenAI != nil {
			return *s.OpenAI, true
		}
	default:
		c, ok := s.Other[provider]
		return c, ok
	}
	return Credential{}, false
}

// NewSet files credentials into their slots, the first per provider
// winning.
func NewSet(cs []Credential) Set {
	s := Set{Other: map[string]Credential{}}
	for _, c := range cs {
		s.add(c)
	}
	return s
}

// add files c into its slot unless the slot is taken.
func (s *Set) add(c Credential) {
	switch c.Provider {
	case "anthropic":
		if s.Anthropic == nil {
			s.Anthropic = &c
		}
	case "openai":
		if s.OpenAI == nil {
			s.OpenAI = &c
		}
	default:
		if _, taken := s.Other[c.Provider]; !taken {
			s.Other[c.Provider] = c
		}
	}
}

// All returns every credential found: anthropic, openai, then the others
// sorted by provider.
func (s Set) All() []Credential {
	var out []Credential
	for _, c := range []*Credential{s.Anthropic, s.OpenAI} {
		if c != nil {
			out = append(out, *c)
		}
	}
	names := make([]string, 0, len(s.Other))
	for n := range s.Other {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, s.Other[n])
	}
	return out
}

// Discover looks for credentials in the reference's order, the first hit
// per provider winning:
//
//  1. env ANTHROPIC_API_KEY, CLAUDE_API_KEY, CLAUDE_CODE_OAUTH_TOKEN,
//     ANTHROPIC_AUTH_TOKEN (anthropic)
//  2. env OPENAI_API_KEY, CODEX_API_KEY (openai)
//  3. Amp's ~/.amp/config.json (anthropic)
//  4. Claude Code's ~/.claude.json* API keys, then its OAuth credentials
//  5. Codex's ~/.codex/auth.json (openai)
//  6. OpenCode's ~/.local/share/opencode/auth.json (any provider)
//
// Missing, unreadable or malformed files are skipped.
func Discover(o Options) Set {
	d := discovery{o: o, set: Set{Other: map[string]Credential{}}}
	if d.o.Getenv == nil {
		d.o.Getenv = os.Getenv
	}
	if d.o.Now == nil {
		d.o.Now = time.Now
	}
	if c, ok := fromEnv("anthropic", d.o.Getenv, o.NoOAuth); ok {
		d.set.Anthropic = &c
	}
	if c, ok := fromEnv("openai", d.o.Getenv, o.NoOAuth); ok {
		d.set.OpenAI = &c
	}
	d.amp()
	d.claude()
	d.codex()
	d.opencode()
	return d.set
}

type discovery struct {
	o   Options
	set Set
}

// home is the user's home directory ("" when unknown: nothing is read).
func (d *discovery) home() string {
	if d.o.Home != "" {
		return d.o.Home
	}
	if h := d.o.Getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// path is an agent's file: $envVar/underEnv when the variable is set (and
// no explicit home was given), else ~/underHome.
func (d *discovery) path(envVar, underEnv, underHome string) string {
	if d.o.Home == "" && envVar != "" {
		if v := d.o.Getenv(envVar); v != "" {
			return filepath.Join(v, underEnv)
		}
	}
	h := d.home()
	if h == "" {
		return ""
	}
	return filepath.Join(h, underHome)
}

// str returns the non-empty string at a dotted path of m.
func str(m map[string]any, path string) (string, bool) {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		v = obj[k]
	}
	s, ok := v.(string)
	s = strings.TrimSpace(s)
	return s, ok && s != ""
}

var ampKeys = []string{"anthropicApiKey", "anthropic_api_key", "apiKey", "api_key", "accessToken",
	"access_token", "token", "auth.anthropicApiKey", "auth.apiKey", "auth.token", "anthropic.apiKey", "anthropic.token"}

func (d *discovery) amp() {
	if d.set.Anthropic != nil {
		return
	}
	m := readJSON(d.path("", "", ".amp/config.json"))
	for _, k := range ampKeys {
		if v, ok := str(m, k); ok {
			d.set.add(Credential{Provider: "anthropic", Source: SourceAmp, AuthType: APIKey, APIKey: v})
			return
		}
	}
}

func (d *discovery) claude() {
	if d.set.Anthropic != nil {
		return
	}
	// Claude Code keeps ~/.claude.json beside (not in) ~/.claude unless
	// CLAUDE_CONFIG_DIR moves both into one directory.
	for _, name := range []string{".claude.json.api", ".claude.json", ".claude.json.nathan"} {
		m := readJSON(d.path("CLAUDE_CONFIG_DIR", name, name))
		for _, k := range []string{"primaryApiKey", "apiKey", "anthropicApiKey", "customApiKey"} {
			if v, ok := str(m, k); ok && strings.HasPrefix(v, "sk-ant-") {
				d.set.add(Credential{Provider: "anthropic", Source: SourceClaude, AuthType: APIKey, APIKey: v})
				return
			}
		}
	}
	if d.o.NoOAuth {
		return
	}
	for _, path := range []string{d.path("CLAUDE_CONFIG_DIR", ".credentials.json", ".claude/.credentials.json"), d.path("", "", ".claude-oauth-credentials.json")} {
		m := readJSON(path)
		tok, ok := str(m, "claudeAiOauth.accessToken")
		if !ok {
			continue
		}
		if exp, ok := str(m, "claudeAiOauth.expiresAt"); ok {
			if t, err := time.Parse(time.RFC3339, exp); err == nil && t.Before(d.o.Now()) {
				continue
			}
		}
		d.set.add(Credential{Provider: "anthropic", Source: SourceClaude, AuthType: OAuth, APIKey: tok})
		return
	}
}

func (d *discovery) codex() {
	if d.set.OpenAI != nil {
		return
	}
	m := readJSON(d.path("CODEX_HOME", "auth.json", ".codex/auth.json"))
	if v, ok := str(m, "OPENAI_API_KEY"); ok {
		d.set.add(Credential{Provider: "openai", Source: SourceCodex, AuthType: APIKey, APIKey: v})
	} else if v, ok := str(m, "tokens.access_token"); ok && !d.o.NoOAuth {
		d.set.add(Credential{Provider: "openai", Source: SourceCodex, AuthType: OAuth, APIKey: v})
	}
}

func (d *discovery) opencode() {
	m := readJSON(d.path("XDG_DATA_HOME", "opencode/auth.json", ".local/share/opencode/auth.json"))
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, provider := range names {
		entry, ok := m[provider].(map[string]any)
		if !ok {
			continue
		}
		typ, _ := str(entry, "type")
		var c Credential
		switch typ {
		case "api":
			v, ok := str(entry, "key")
			if !ok {
				continue
			}
			c = Credential{Provider: provider, Source: SourceOpenCode, AuthType: APIKey, APIKey: v}
		case "oauth":
			v, ok := str(entry, "access")
			if !ok || d.o.NoOAuth {
				continue
			}
			if exp, ok := entry["expires"].(float64); ok && int64(exp) < d.o.Now().UnixMilli() {
				continue
			}
			c = Credential{Provider: provider, Source: SourceOpenCode, AuthType: OAuth, APIKey: v}
		default:
			continue
		}
		d.set.add(c)
	}
}
