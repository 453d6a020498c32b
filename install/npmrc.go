package install

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

const publicRegistry = "https://registry.npmjs.org/"

// npmConfig is the subset of npm's configuration the installer honours:
// registry, @scope:registry, and per-registry credentials
// (//host/path/:_authToken, //host/path/:_auth). Precedence as in npm:
// environment, then the project .npmrc, then the user .npmrc.
type npmConfig struct {
	kv map[string]string
}

func loadNPMConfig() npmConfig {
	c := npmConfig{kv: map[string]string{}}
	set := func(k, v string) {
		if _, ok := c.kv[k]; !ok {
			c.kv[k] = v
		}
	}
	for _, k := range []string{"NPM_CONFIG_REGISTRY", "npm_config_registry"} {
		if v := os.Getenv(k); v != "" {
			set("registry", v)
			break
		}
	}
	for _, f := range npmrcFiles() {
		for k, v := range parseNPMRC(f) {
			set(k, v)
		}
	}
	return c
}

// npmrcFiles lists the project and user .npmrc files, highest precedence
// first.
func npmrcFiles() []string {
	var files []string
	if wd, err := os.Getwd(); err == nil {
		files = append(files, filepath.Join(localPrefix(wd), ".npmrc"))
	}
	user := os.Getenv("NPM_CONFIG_USERCONFIG")
	if user == "" {
		user = os.Getenv("npm_config_userconfig")
	}
	if user == "" {
		if h, err := os.UserHomeDir(); err == nil {
			user = filepath.Join(h, ".npmrc")
		}
	}
	if user != "" && (len(files) == 0 || files[0] != user) {
		files = append(files, user)
	}
	return files
}

// localPrefix is npm's project root: the nearest ancestor holding a
// package.json or node_modules, else the working directory itself.
func localPrefix(wd string) string {
	for d := wd; ; d = filepath.Dir(d) {
		for _, n := range []string{"package.json", "node_modules"} {
			if _, err := os.Stat(filepath.Join(d, n)); err == nil {
				return d
			}
		}
		if filepath.Dir(d) == d {
			return wd
		}
	}
}

var envRef = regexp.MustCompile(`\$\{([^}]+)\}`)

func parseNPMRC(path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		v = envRef.ReplaceAllStringFunc(v, func(s string) string { return os.Getenv(s[2 : len(s)-1]) })
		out[k] = v
	}
	return out
}

// registry returns the registry for a package scope ("@openai") or the
// default registry when scope is "".
func (c npmConfig) registry(scope string) string {
	if scope != "" {
		if r := c.kv[scope+":registry"]; r != "" {
			return r
		}
	}
	if r := c.kv["registry"]; r != "" {
		return r
	}
	return publicRegistry
}

// auth returns the Authorization header configured for url, if any. As in
// npm, credentials are keyed by "//host/path/" and apply to every URL
// below that path.
func (c npmConfig) auth(url string) string {
	_, rest, ok := strings.Cut(url, "://")
	if !ok {
		return ""
	}
	rest = "//" + rest
	best, hdr := 0, ""
	for k, v := range c.kv {
		prefix, field, ok := strings.Cut(k, ":_")
		if !ok || !strings.HasPrefix(prefix, "//") || v == "" {
			continue
		}
		p := strings.TrimSuffix(prefix, "/") + "/"
		if !strings.HasPrefix(rest, p) && rest+"/" != p {
			continue
		}
		var h string
		switch field {
		case "authToken":
			h = "Bearer " + v
		case "auth":
			h = "Basic " + v
		default:
			continue
		}
		if len(p) > best {
			best, hdr = len(p), h
		}
	}
	return hdr
}
