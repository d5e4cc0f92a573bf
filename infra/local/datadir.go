package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pigeon-mail/pigeon/shared/auth"
)

// The data directory (Settings.DataDir) holds:
//
//	LOCK       held (flock) by the stack using the directory; it contains that stack's PID
//	api-key    the organisation key, generated on the first start (mode 0600)
//	dynamodb/  the embedded DynamoDB (package dynamo)
//	s3/        the embedded S3 (package embedded/s3store)
//	sqs/       the webhook queue (package sqsemu)
const (
	lockFile   = "LOCK"
	apiKeyFile = "api-key"
)

// KeySource says where the organisation key of a stack came from.
type KeySource string

const (
	KeyGenerated KeySource = "generated"      // new, and kept in the data directory
	KeyKept      KeySource = "kept"           // read from the data directory
	KeyFromEnv   KeySource = "PIGEON_API_KEY" // Settings.APIKey; not written anywhere
)

// openDataDir settles the stack's data directory (creating it, or a temporary one for an
// ephemeral stack) and locks it.
func (s *Stack) openDataDir(set Settings) error {
	switch {
	case set.Ephemeral && set.DataDir != "":
		return fmt.Errorf("local: PIGEON_EPHEMERAL and PIGEON_DATA_DIR (%s) are both set; unset one", set.DataDir)
	case set.Ephemeral || set.DataDir == "":
		dir, err := os.MkdirTemp("", "pigeon-local-")
		if err != nil {
			return fmt.Errorf("local: ephemeral data directory: %w", err)
		}
		s.DataDir, s.Ephemeral = dir, true
	default:
		dir, err := filepath.Abs(set.DataDir)
		if err != nil {
			return fmt.Errorf("local: data directory %s: %w", set.DataDir, err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("local: data directory: %w", err)
		}
		s.DataDir = dir
	}
	lock, err := lockDir(s.DataDir)
	if err != nil {
		return err
	}
	s.unlock = lock
	return nil
}

// closeDataDir releases the lock and removes an ephemeral directory.
func (s *Stack) closeDataDir() {
	if s.unlock != nil {
		s.unlock()
		s.unlock = nil
	}
	if s.Ephemeral && s.DataDir != "" {
		if err := os.RemoveAll(s.DataDir); err != nil {
			s.log.Error("local: remove the ephemeral data directory", "dir", s.DataDir, "err", err)
		}
	}
}

// errDataDirInUse is what a second stack on a locked directory gets (wrapped).
var errDataDirInUse = errors.New("data directory in use")

// dataDirInUse is the error for a directory locked by pid (0: unknown).
func dataDirInUse(dir string, pid int) error {
	holder := "another process"
	if pid > 0 {
		holder = fmt.Sprintf("process %d", pid)
	}
	return fmt.Errorf("local: %w: %s is locked by %s (another Pigeon stack?); stop it, or set PIGEON_DATA_DIR to another directory",
		errDataDirInUse, dir, holder)
}

// apiKey is the organisation key: set.APIKey when given, else the one kept in the data
// directory, else a new one, written there atomically (temporary file, fsync, rename, fsync
// of the directory) before the stack uses it.
func (s *Stack) apiKey(set Settings) (string, KeySource, error) {
	if set.APIKey != "" {
		return set.APIKey, KeyFromEnv, nil
	}
	path := filepath.Join(s.DataDir, apiKeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		key := strings.TrimSpace(string(b))
		if key == "" || strings.ContainsAny(key, " \t\r\n") {
			return "", "", fmt.Errorf("local: %s does not hold one API key; fix it, or delete it to have a new key generated", path)
		}
		return key, KeyKept, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("local: read the API key: %w", err)
	}
	key, _ := auth.NewSecret()
	if err := writeFileAtomic(path, []byte(key+"\n"), 0o600, !s.Ephemeral); err != nil {
		return "", "", fmt.Errorf("local: keep the API key: %w", err)
	}
	return key, KeyGenerated, nil
}

// writeFileAtomic replaces path with data: a temporary file in the same directory, synced,
// renamed over path, and the directory synced, so a crash leaves the old file or the new one.
func writeFileAtomic(path string, data []byte, perm os.FileMode, sync bool) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err == nil {
		_, err = f.Write(data)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
