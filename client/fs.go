package client

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/sandbox-agent/sandbox-agent/schema"
)

// File-system methods. A path is absolute, or relative to the working
// directory of the session named by sessionID (when not empty), else to the
// server user's home directory. A path that does not exist is a 400
// invalid_request problem ("path not found: …"), as in the reference API.

// FsQuery names a path and, optionally, the session relative paths start
// from.
type FsQuery struct {
	// Path is the path to act on; empty means "." where the route allows it.
	Path      string
	SessionID string
}

func (q FsQuery) values() url.Values {
	v := url.Values{}
	if q.Path != "" {
		v.Set("path", q.Path)
	}
	if q.SessionID != "" {
		v.Set("sessionId", q.SessionID)
	}
	return v
}

// FsEntries lists a directory in the order the file system returns it.
func (c *Client) FsEntries(ctx context.Context, q FsQuery) ([]schema.FsEntry, error) {
	var out []schema.FsEntry
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/fs/entries", query: q.values()}, &out)
	return out, err
}

// FsRead streams a file's bytes; the caller closes the reader.
func (c *Client) FsRead(ctx context.Context, path, sessionID string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, request{method: http.MethodGet, path: "/v1/fs/file",
		query:  FsQuery{Path: path, SessionID: sessionID}.values(),
		header: http.Header{"Accept": {"application/octet-stream"}}})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// FsWrite streams r into the file at path, creating parent directories and
// replacing an existing file. r may be any size the server accepts (see its
// --max-upload-bytes); nil writes an empty file.
func (c *Client) FsWrite(ctx context.Context, path, sessionID string, r io.Reader) (schema.FsWriteResponse, error) {
	var out schema.FsWriteResponse
	err := c.do(ctx, request{method: http.MethodPut, path: "/v1/fs/file",
		query: FsQuery{Path: path, SessionID: sessionID}.values(),
		raw:   r, contentType: "application/octet-stream"}, &out)
	return out, err
}

// FsDelete removes a file, a symlink, or a directory (a non-empty one only
// when recursive is set).
func (c *Client) FsDelete(ctx context.Context, path, sessionID string, recursive bool) (schema.FsActionResponse, error) {
	q := FsQuery{Path: path, SessionID: sessionID}.values()
	if recursive {
		q.Set("recursive", "true")
	}
	var out schema.FsActionResponse
	err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/fs/entry", query: q}, &out)
	return out, err
}

// FsMkdir creates a directory and any missing parents.
func (c *Client) FsMkdir(ctx context.Context, path, sessionID string) (schema.FsActionResponse, error) {
	var out schema.FsActionResponse
	err := c.do(ctx, request{method: http.MethodPost, path: "/v1/fs/mkdir",
		query: FsQuery{Path: path, SessionID: sessionID}.values()}, &out)
	return out, err
}

// FsMove moves or renames req.From to req.To; an existing To is replaced
// only when req.Overwrite is true.
func (c *Client) FsMove(ctx context.Context, sessionID string, req schema.FsMoveRequest) (schema.FsMoveResponse, error) {
	var out schema.FsMoveResponse
	err := c.do(ctx, request{method: http.MethodPost, path: "/v1/fs/move",
		query: FsQuery{SessionID: sessionID}.values(), body: req}, &out)
	return out, err
}

// FsStat describes a file or directory (following symlinks).
func (c *Client) FsStat(ctx context.Context, path, sessionID string) (schema.FsStat, error) {
	var out schema.FsStat
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/fs/stat",
		query: FsQuery{Path: path, SessionID: sessionID}.values()}, &out)
	return out, err
}

// FsUploadBatch streams a tar archive (plain or gzip-compressed) to the
// server, which unpacks it into dir ("" means ".", created if missing). The
// answer lists the first 1024 extracted paths.
func (c *Client) FsUploadBatch(ctx context.Context, dir, sessionID string, tar io.Reader) (schema.FsUploadBatchResponse, error) {
	var out schema.FsUploadBatchResponse
	err := c.do(ctx, request{method: http.MethodPost, path: "/v1/fs/upload-batch",
		query: FsQuery{Path: dir, SessionID: sessionID}.values(),
		raw:   tar, contentType: "application/x-tar"}, &out)
	return out, err
}
