package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sandbox-agent/sandbox-agent/client"
	"github.com/sandbox-agent/sandbox-agent/schema"
)

// fsPathsNote is how paths are resolved, for every fs command's help.
const fsPathsNote = `Paths are on the server's machine: absolute, or relative to the working
directory of --session-id, else to the server user's home directory.`

func newAPIFsCmd(o *apiOptions) *cobra.Command {
	var sid string
	fsCmd := func(op string, c *cobra.Command) *cobra.Command {
		c.Long = c.Short + ".\n\n" + fsPathsNote
		c.Flags().StringVar(&sid, "session-id", "", "resolve relative paths in this session's working directory")
		return apiCmd(op, c)
	}

	var dir string
	entries := fsCmd("listFsEntries", &cobra.Command{
		Use:     "entries",
		Short:   "List a directory",
		Example: "  sandbox-agent api fs entries --path /work\n  sandbox-agent api fs entries --session-id demo --json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			es, err := o.client().FsEntries(cmd.Context(), client.FsQuery{Path: dir, SessionID: sid})
			if err != nil {
				return err
			}
			if !o.human(cmd) {
				return writeJSON(cmd.OutOrStdout(), es)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TYPE\tSIZE\tNAME")
			for _, e := range es {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", e.EntryType, e.Size, e.Name)
			}
			return tw.Flush()
		},
	})
	entries.Flags().StringVar(&dir, "path", "", "directory to list (default .)")

	read := fsCmd("readFsFile", &cobra.Command{
		Use:     "read <path>",
		Short:   "Print a file's bytes",
		Example: "  sandbox-agent api fs read /work/README.md\n  sandbox-agent api fs read out.png --session-id demo > out.png",
		Args:    exactArgs(1, "path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rc, err := o.client().FsRead(cmd.Context(), args[0], sid)
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(cmd.OutOrStdout(), rc)
			return err
		},
	})

	var content, fromFile string
	write := fsCmd("writeFsFile", &cobra.Command{
		Use:   "write <path>",
		Short: "Write a file (creating parent directories, replacing what was there)",
		Example: `  sandbox-agent api fs write notes.txt --content "hello" --session-id demo
  sandbox-agent api fs write /work/big.bin --from-file ./big.bin
  tar c src | sandbox-agent api fs write /tmp/src.tar --from-file -`,
		Args: exactArgs(1, "path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, closeBody, err := contentSource(cmd, content, fromFile)
			if err != nil {
				return err
			}
			defer closeBody()
			out, err := o.client().FsWrite(cmd.Context(), args[0], sid, body)
			return o.print(cmd, out, err)
		},
	})
	write.Flags().StringVar(&content, "content", "", "the file's content")
	write.Flags().StringVar(&fromFile, "from-file", "", "local file to upload (- for stdin)")

	var recursive bool
	del := fsCmd("deleteFsEntry", &cobra.Command{
		Use:     "delete <path>",
		Short:   "Delete a file, symlink or directory",
		Example: "  sandbox-agent api fs delete /tmp/out.txt\n  sandbox-agent api fs delete build --recursive --session-id demo",
		Args:    exactArgs(1, "path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := o.client().FsDelete(cmd.Context(), args[0], sid, recursive)
			return o.print(cmd, out, err)
		},
	})
	del.Flags().BoolVar(&recursive, "recursive", false, "delete a non-empty directory with its contents")

	mkdir := fsCmd("mkdirFs", &cobra.Command{
		Use:     "mkdir <path>",
		Short:   "Create a directory and any missing parents",
		Example: "  sandbox-agent api fs mkdir /work/out/logs",
		Args:    exactArgs(1, "path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := o.client().FsMkdir(cmd.Context(), args[0], sid)
			return o.print(cmd, out, err)
		},
	})

	var overwrite bool
	move := fsCmd("moveFs", &cobra.Command{
		Use:     "move <from> <to>",
		Short:   "Move or rename a file or directory",
		Example: "  sandbox-agent api fs move draft.md final.md --session-id demo\n  sandbox-agent api fs move /tmp/a /tmp/b --overwrite",
		Args:    exactArgs(2, "from", "to"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := schema.FsMoveRequest{From: args[0], To: args[1]}
			if overwrite {
				req.Overwrite = schema.Ptr(true)
			}
			out, err := o.client().FsMove(cmd.Context(), sid, req)
			return o.print(cmd, out, err)
		},
	})
	move.Flags().BoolVar(&overwrite, "overwrite", false, "replace an existing destination")

	stat := fsCmd("statFs", &cobra.Command{
		Use:     "stat <path>",
		Short:   "Describe a file or directory",
		Example: "  sandbox-agent api fs stat /work/README.md",
		Args:    exactArgs(1, "path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := o.client().FsStat(cmd.Context(), args[0], sid)
			return o.print(cmd, out, err)
		},
	})

	var tarFile, into string
	upload := fsCmd("uploadFsBatch", &cobra.Command{
		Use:   "upload-batch",
		Short: "Upload a tar archive (plain or gzip) and unpack it into a directory",
		Example: `  sandbox-agent api fs upload-batch --tar src.tar.gz --path /work/src
  tar cz . | sandbox-agent api fs upload-batch --tar - --session-id demo`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, closeBody, err := contentSource(cmd, "", tarFile)
			if err != nil {
				return err
			}
			defer closeBody()
			out, err := o.client().FsUploadBatch(cmd.Context(), into, sid, body)
			return o.print(cmd, out, err)
		},
	})
	upload.Flags().StringVar(&tarFile, "tar", "", "tar archive to upload (- for stdin; required)")
	_ = upload.MarkFlagRequired("tar")
	upload.Flags().StringVar(&into, "path", "", "directory to unpack into (default .)")

	return group("fs", "Files on the server's machine: list, read, write, delete, mkdir, move, stat, upload",
		`  sandbox-agent api fs entries --path /work
  sandbox-agent api fs write notes.txt --content "hi" --session-id demo
  sandbox-agent api fs read notes.txt --session-id demo`,
		entries, read, write, del, mkdir, move, stat, upload)
}

// contentSource is --content or --from-file (a path, or - for stdin);
// exactly one may be given.
func contentSource(cmd *cobra.Command, content, fromFile string) (io.Reader, func(), error) {
	nop := func() {}
	switch {
	case cmd.Flags().Changed("content") && fromFile != "":
		return nil, nop, usagef("use --content or --from-file, not both")
	case cmd.Flags().Changed("content"):
		return strings.NewReader(content), nop, nil
	case fromFile == "-":
		return cmd.InOrStdin(), nop, nil
	case fromFile != "":
		f, err := os.Open(fromFile)
		if err != nil {
			return nil, nop, err
		}
		return f, func() { f.Close() }, nil
	}
	return nil, nop, usagef("write requires --content or --from-file")
}
