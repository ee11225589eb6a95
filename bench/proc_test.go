package bench

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProcParsers(t *testing.T) {
	// A name with spaces and a parenthesis, as /proc shows it.
	stat := []byte("4242 (front desk) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 567 0 0 20 0 12 0 100 2000000 3000 18446744073709551615")
	cpu, err := parseStatCPU(stat)
	require.NoError(t, err)
	require.InDelta(t, 18.01, cpu, 1e-9)

	rss, err := parseStatusRSS([]byte("Name:\tfrontdesk\nVmPeak:\t  9000 kB\nVmRSS:\t   20480 kB\nThreads:\t8\n"))
	require.NoError(t, err)
	require.Equal(t, int64(20480<<10), rss)
	_, err = parseStatusRSS([]byte("Name:\tx\n"))
	require.Error(t, err)

	busy, total, err := parseMachineCPU([]byte("cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 1 2 3\n"))
	require.NoError(t, err)
	require.InDelta(t, 1.60, busy, 1e-9)
	require.InDelta(t, 10.00, total, 1e-9)
}

func TestOwnProcessIsReadable(t *testing.T) {
	if _, err := procRSS(1); err != nil {
		t.Skip("no /proc here")
	}
	rss, err := procRSS(os.Getpid())
	require.NoError(t, err)
	require.Greater(t, rss, int64(1<<20))
	cpu, err := procCPU(os.Getpid())
	require.NoError(t, err)
	require.GreaterOrEqual(t, cpu, 0.0)
}

func TestSummarize(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p := summarize(d)
	require.Equal(t, 100, p.Count)
	require.Equal(t, 50.0, p.P50)
	require.Equal(t, 90.0, p.P90)
	require.Equal(t, 99.0, p.P99)
	require.Equal(t, 100.0, p.Max)
	require.InDelta(t, 50.5, p.Mean, 1e-9)
	require.Equal(t, Percentiles{}, summarize(nil))
}

func TestLoopbackAddressesAreDistinctAndLocal(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range []int{0, 1, 249, 250, 62499, 62500, poolObservers, poolIdle, poolWarm, poolWarm + 999} {
		ip := loopbackIP(n)
		require.True(t, ip.IsLoopback(), "%d: %v", n, ip)
		require.False(t, seen[ip.String()], "%d: %v twice", n, ip)
		seen[ip.String()] = true
	}
	// The kernel lets a client bind one.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: loopbackIP(poolIdle + 77)}, Timeout: time.Second}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Skipf("this system cannot bind 127.10.x.y: %v", err)
	}
	c.Close()
}

func TestErrorsMergeAndSummary(t *testing.T) {
	var a, b Errors
	a.connect("HTTP 429")
	a.Timeouts = 2
	a.frame("rate_limited")
	b.connect("HTTP 429")
	b.connect("timeout")
	b.frame("rate_limited")
	b.frame("internal")
	a.add(b)
	require.Equal(t, int64(3), a.Connect)
	require.Equal(t, map[string]int64{"HTTP 429": 2, "timeout": 1}, a.ConnectCauses)
	require.Equal(t, map[string]int64{"rate_limited": 2, "internal": 1}, a.Frames)
	require.Equal(t, int64(8), a.Total())
	require.Equal(t, "8 (connect 3 [HTTP 429: 2, timeout: 1], timeout 2, internal 1, rate_limited 2)", errorSummary(a))
	require.Equal(t, "0", errorSummary(Errors{}))
}
