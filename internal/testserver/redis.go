package testserver

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/internal/testlog"
)

// Redis starts a redis-server for t alone, without persistence, and
// returns its address (127.0.0.1:port). The server is killed when t ends.
func Redis(t testing.TB) (addr string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		fail(t, &missingError{what: "redis-server", pkg: "redis-server", where: "PATH"})
	}
	for attempt := 1; ; attempt++ {
		addr, stop, retry, err := startRedis(bin)
		if err == nil {
			t.Cleanup(func() {
				if err := stop(); err != nil {
					t.Errorf("stopping redis: %v", err)
				}
			})
			return addr
		}
		if !retry || attempt == 3 {
			t.Fatalf("%v", err)
		}
	}
}

// startRedis starts bin on a free port and waits until it answers PING.
// retry says whether another port may do better.
func startRedis(bin string) (addr string, stop func() error, retry bool, err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, false, err
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var out testlog.Buffer
	cmd := exec.Command(bin, "--save", "", "--appendonly", "no", "--bind", "127.0.0.1",
		"--port", strconv.Itoa(port), "--daemonize", "no", "--unixsocket", "", "--loglevel", "warning")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		return "", nil, false, fmt.Errorf("testserver: starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	kill := func() { cmd.Process.Kill(); <-exited }
	rp, err := startReaper("/", nil, "kill -9 "+strconv.Itoa(cmd.Process.Pid)+" 2>/dev/null")
	if err != nil {
		kill()
		return "", nil, false, err
	}
	stop = func() error {
		kill()
		return rp.disarm()
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if ping(addr) {
			return addr, stop, false, nil
		}
		select {
		case <-exited:
			rp.disarm()
			log := out.String()
			return "", nil, strings.Contains(log, "already in use"),
				fmt.Errorf("testserver: redis-server on %s exited at start: %s", addr, tail(log, 2000))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, false, fmt.Errorf("testserver: redis-server on %s did not answer PING within 15s: %s", addr, tail(out.String(), 2000))
		}
	}
}

// ping says whether a Redis server at addr answers PING.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.TrimSpace(line) == "+PONG"
}
