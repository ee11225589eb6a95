package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// child is a process the bench started: a frontdesk node or the echo
// server.
type child struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// Bounds on starting and stopping children.
const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
)

// startChild runs exe with args and env (on top of the bench's own
// environment minus FRONTDESK_* settings), its output going to a log file
// in dir.
func startChild(name, exe string, args, env []string, dir string) (*child, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(childEnv(os.Environ()), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: start %s (%s): %w", name, exe, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		f.Close()
		close(c.done)
	}()
	return c, nil
}

// childEnv drops the FRONTDESK_* settings of the bench's environment, so
// only what the bench sets reaches a node. FRONTDESK_BENCH_* pass (the
// tests use one to re-execute their own binary).
func childEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if strings.HasPrefix(kv, "FRONTDESK_") && !strings.HasPrefix(kv, "FRONTDESK_BENCH_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to stopTimeout for a graceful exit, then
// sends SIGKILL. It is idempotent.
func (c *child) stop() {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return
	case <-time.After(stopTimeout):
	}
	_ = c.cmd.Process.Kill()
	select {
	case <-c.done:
	case <-time.After(stopTimeout):
	}
}

// logTail returns the end of the child's log, for error messages.
func (c *child) logTail() string {
	data, err := os.ReadFile(c.log)
	if err != nil {
		return ""
	}
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(bytes.TrimSpace(data))
}

// waitReady polls http://addr+path until it answers 200, the child exits,
// ctx ends or readyTimeout passes.
func (c *child) waitReady(ctx context.Context, path string) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for i := 0; time.Now().Before(deadline); i++ {
		if c.exited() {
			return fmt.Errorf("bench: %s exited before it was ready (%v); its log ends with:\n%s", c.name, c.err, c.logTail())
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+path, nil)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("bench: %s not ready at http://%s%s within %v; its log ends with:\n%s", c.name, c.addr, path, readyTimeout, c.logTail())
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}

// startReady starts a child on a free loopback port (set by addrEnv or
// appended as flag) and waits until path answers 200. A port taken between
// choosing and binding is retried.
func startReady(ctx context.Context, name, exe string, args func(addr string) []string, env func(addr string) []string, dir, path string) (*child, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		c, err := startChild(name, exe, args(addr), env(addr), dir)
		if err != nil {
			return nil, err
		}
		c.addr = addr
		if err := c.waitReady(ctx, path); err != nil {
			c.stop()
			lastErr = err
			if ctx.Err() != nil || !strings.Contains(c.logTail(), "address already in use") {
				return nil, err
			}
			continue
		}
		return c, nil
	}
	return nil, errors.Join(errors.New("bench: no free port after 3 attempts"), lastErr)
}
