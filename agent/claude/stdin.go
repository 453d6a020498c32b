package claude

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/sandbox-agent/sandbox-agent/agent"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// Lines written to the CLI's stdin. Every builder returns one line ending
// in '\n'.

// MaxAttachmentBytes bounds one attachment read from disk or a data URL.
const MaxAttachmentBytes = 32 << 20

func line(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // only our own types are marshalled
		panic(err)
	}
	return append(b, '\n')
}

// InitializeLine is the initialize control request the CLI expects first.
func InitializeLine(requestID string) []byte {
	return line(controlRequest{Type: "control_request", RequestID: requestID,
		Request: initializeRequest{Subtype: "initialize", Hooks: json.RawMessage("null")}})
}

// InterruptLine asks the CLI to stop the running turn; it answers with a
// control_response and ends the turn with an aborted result.
func InterruptLine(requestID string) []byte {
	return line(controlRequest{Type: "control_request", RequestID: requestID,
		Request: interruptRequest{Subtype: "interrupt"}})
}

// SetPermissionModeLine switches the CLI's permission mode (default,
// acceptEdits, plan, bypassPermissions).
func SetPermissionModeLine(requestID, mode string) []byte {
	return line(controlRequest{Type: "control_request", RequestID: requestID,
		Request: setPermissionModeRequest{Subtype: "set_permission_mode", Mode: mode}})
}

// allowLine allows a request; input is the compact JSON object to run the
// tool with (Request.Input, or derived from it).
func allowLine(requestID string, input json.RawMessage, perms []json.RawMessage) []byte {
	return line(controlResponse{Type: "control_response", Response: controlResponseBody{
		Subtype: "success", RequestID: requestID,
		Response: permissionResult{Behavior: "allow", UpdatedInput: input, UpdatedPermissions: perms},
	}})
}

func denyLine(requestID, message string) []byte {
	return line(controlResponse{Type: "control_response", Response: controlResponseBody{
		Subtype: "success", RequestID: requestID,
		Response: permissionResult{Behavior: "deny", Message: message},
	}})
}

// ErrorResponseLine refuses a control request we do not support, so the CLI
// does not wait for it.
func ErrorResponseLine(requestID, message string) []byte {
	return line(controlResponse{Type: "control_response", Response: controlResponseBody{
		Subtype: "error", RequestID: requestID, Error: message,
	}})
}

// UserLine is a user turn. Text alone is sent as a string, as the CLI's own
// SDKs do; with attachments the content is a list of blocks: the text, then
// one block per attachment. sessionID may be empty before the CLI told its
// own. Relative attachment paths are resolved against dir.
func UserLine(p agent.Prompt, sessionID, dir string) ([]byte, error) {
	if sessionID == "" {
		sessionID = "default"
	}
	msg := userInputMessage{Role: "user", Content: p.Text}
	if len(p.Attachments) > 0 {
		blocks := []inputBlock{}
		if p.Text != "" {
			blocks = append(blocks, inputBlock{Type: "text", Text: p.Text})
		}
		for _, a := range p.Attachments {
			b, err := attachmentBlock(a, dir)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
		}
		msg.Content = blocks
	}
	return line(userInput{Type: "user", Message: msg, SessionID: sessionID}), nil
}

// attachmentBlock turns an attachment into a content block. The path is a
// local file, an http(s) URL or a data: URL. Images become image blocks,
// PDFs and text documents document blocks; other files a text block naming
// the file, which the agent can open itself.
func attachmentBlock(a schema.MessageAttachment, dir string) (inputBlock, error) {
	mediaType := schema.Deref(a.MIME)
	name := schema.Deref(a.Filename)
	path := a.Path
	switch {
	case strings.HasPrefix(path, "http://"), strings.HasPrefix(path, "https://"):
		if mediaType == "" {
			if u, err := url.Parse(path); err == nil {
				mediaType = mime.TypeByExtension(strings.ToLower(filepath.Ext(u.Path)))
			}
		}
		mediaType = baseType(mediaType)
		switch {
		case isImage(mediaType) || (mediaType == "" && a.MIME == nil && looksLikeImageURL(path)):
			return inputBlock{Type: "image", Source: &inputSource{Type: "url", URL: path}}, nil
		case mediaType == "application/pdf":
			return inputBlock{Type: "document", Source: &inputSource{Type: "url", URL: path}, Title: name}, nil
		}
		return inputBlock{Type: "text", Text: fmt.Sprintf("Attached file: %s", path)}, nil
	case strings.HasPrefix(path, "data:"):
		dt, data, err := parseDataURL(path)
		if err != nil {
			return inputBlock{}, agent.Errorf(agent.ErrInvalidRequest, "attachment: %v", err)
		}
		if mediaType == "" {
			mediaType = dt
		}
		if name == "" {
			name = "attachment"
		}
		return dataBlock(baseType(mediaType), name, "", data), nil
	}
	if !filepath.IsAbs(path) && dir != "" {
		path = filepath.Join(dir, path)
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > MaxAttachmentBytes {
		return inputBlock{}, agent.Errorf(agent.ErrInvalidRequest, "attachment %s: larger than %d bytes", a.Path, MaxAttachmentBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return inputBlock{}, agent.Errorf(agent.ErrInvalidRequest, "attachment %s: %v", a.Path, err)
	}
	if len(data) > MaxAttachmentBytes {
		return inputBlock{}, agent.Errorf(agent.ErrInvalidRequest, "attachment %s: larger than %d bytes", a.Path, MaxAttachmentBytes)
	}
	if mediaType == "" {
		mediaType = mime.TypeByExtension(strings.ToLower(filepath.Ext(path)))
	}
	if name == "" {
		name = filepath.Base(path)
	}
	return dataBlock(baseType(mediaType), name, path, data), nil
}

func dataBlock(mediaType, name, path string, data []byte) inputBlock {
	switch {
	case isImage(mediaType):
		return inputBlock{Type: "image", Source: &inputSource{Type: "base64", MediaType: mediaType, Data: base64.StdEncoding.EncodeToString(data)}}
	case mediaType == "application/pdf":
		return inputBlock{Type: "document", Source: &inputSource{Type: "base64", MediaType: mediaType, Data: base64.StdEncoding.EncodeToString(data)}, Title: name}
	case (strings.HasPrefix(mediaType, "text/") || mediaType == "" || isTextual(mediaType)) && utf8.Valid(data):
		return inputBlock{Type: "document", Source: &inputSource{Type: "text", MediaType: "text/plain", Data: string(data)}, Title: name}
	}
	where := path
	if where == "" {
		where = name
	}
	return inputBlock{Type: "text", Text: fmt.Sprintf("Attached file: %s (%s, %d bytes)", where, orUnknown(mediaType), len(data))}
}

func isImage(t string) bool {
	switch t {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

func isTextual(t string) bool {
	switch t {
	case "application/json", "application/xml", "application/yaml", "application/x-yaml",
		"application/javascript", "application/toml", "application/x-sh":
		return true
	}
	return false
}

func looksLikeImageURL(u string) bool {
	return isImage(baseType(mime.TypeByExtension(strings.ToLower(filepath.Ext(u)))))
}

func baseType(t string) string {
	if mt, _, err := mime.ParseMediaType(t); err == nil {
		return mt
	}
	return strings.ToLower(strings.TrimSpace(t))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown type"
	}
	return s
}

// parseDataURL decodes data:[<mediatype>][;base64],<data>.
func parseDataURL(s string) (string, []byte, error) {
	rest, ok := strings.CutPrefix(s, "data:")
	if !ok {
		return "", nil, fmt.Errorf("not a data URL")
	}
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok {
		return "", nil, fmt.Errorf("data URL without a comma")
	}
	isB64 := false
	if m, found := strings.CutSuffix(meta, ";base64"); found {
		meta, isB64 = m, true
	}
	if len(payload) > MaxAttachmentBytes*4/3+4 {
		return "", nil, fmt.Errorf("data URL larger than %d bytes", MaxAttachmentBytes)
	}
	var data []byte
	if isB64 {
		d, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			d, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(payload, "="))
			if err != nil {
				return "", nil, fmt.Errorf("data URL: %v", err)
			}
		}
		data = d
	} else {
		d, err := url.PathUnescape(payload)
		if err != nil {
			return "", nil, fmt.Errorf("data URL: %v", err)
		}
		data = []byte(d)
	}
	if meta == "" {
		meta = "text/plain"
	}
	return meta, data, nil
}

// UserMessage returns the drafts of the user's own message item (started
// and completed, native id user_<n>): the CLI does not echo it.
func (c *Converter) UserMessage(p agent.Prompt) []agent.Draft {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users++
	parts := []schema.ContentPart{schema.Text(p.Text)}
	for _, a := range p.Attachments {
		mt := baseType(schema.Deref(a.MIME))
		if mt == "" && !strings.HasPrefix(a.Path, "data:") {
			mt = baseType(mime.TypeByExtension(strings.ToLower(filepath.Ext(a.Path))))
		}
		if strings.HasPrefix(a.Path, "data:") {
			if dt, _, ok := strings.Cut(strings.TrimPrefix(a.Path, "data:"), ","); ok && mt == "" {
				mt = baseType(strings.TrimSuffix(dt, ";base64"))
			}
		}
		var mp *string
		if mt != "" {
			mp = schema.Ptr(mt)
		}
		if isImage(mt) {
			parts = append(parts, schema.Image(attachmentLabel(a), mp))
		} else {
			parts = append(parts, schema.FileRef(attachmentLabel(a), schema.FileRead, nil))
		}
	}
	it := agent.Message(fmt.Sprintf("user_%d", c.users), schema.RoleUser, parts...)
	return c.stamp([]agent.Draft{agent.ItemStarted(it, nil), agent.ItemCompleted(it, nil)})
}

// attachmentLabel is the path shown for an attachment; data URLs are not
// repeated in the transcript.
func attachmentLabel(a schema.MessageAttachment) string {
	if strings.HasPrefix(a.Path, "data:") {
		if n := schema.Deref(a.Filename); n != "" {
			return n
		}
		return "attachment"
	}
	return a.Path
}
