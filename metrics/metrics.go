// Package metrics holds Frontdesk's Prometheus metrics: HTTP request
// latency, websocket connections, conversation steps and timer lag. One
// Registry per process; /metrics serves it.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/frontdesk/frontdesk/engine"
)

// Registry owns the metrics. Its methods are safe for concurrent use.
type Registry struct {
	reg         *prometheus.Registry
	httpLatency *prometheus.HistogramVec
	wsConns     *prometheus.GaugeVec
	wsClosed    *prometheus.CounterVec
	steps       *prometheus.HistogramVec
	stepErrors  *prometheus.CounterVec
	timerLag    prometheus.Histogram
	writeWait   prometheus.Histogram
	groupSize   prometheus.Histogram
	groupTime   prometheus.Histogram
}

// New registers every metric, plus the Go runtime and process collectors.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.httpLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "frontdesk_http_request_duration_seconds", Help: "HTTP request latency by route and status class.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"method", "route", "status"})
	r.wsConns = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "frontdesk_websocket_connections", Help: "Open websocket connections by kind (visitor, agent).",
	}, []string{"kind"})
	r.wsClosed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "frontdesk_websocket_closed_total", Help: "Websocket connections closed, by kind and close code.",
	}, []string{"kind", "code"})
	r.steps = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "frontdesk_steps_seconds", Help: "Conversation steps (one transaction each) by event type.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"event"})
	r.stepErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "frontdesk_step_errors_total", Help: "Conversation steps that failed, by event type.",
	}, []string{"event"})
	r.timerLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "frontdesk_timer_lag_seconds", Help: "How late durable timers fire after their due time.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})
	r.writeWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "frontdesk_sqlite_write_wait_seconds", Help: "How long a write transaction waited in SQLite's write queue for its turn.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	r.groupSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "frontdesk_sqlite_write_group_size", Help: "Write transactions committed together by SQLite's writer (group commit).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
	})
	r.groupTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "frontdesk_sqlite_write_group_seconds", Help: "How long one group of write transactions took, commit included.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	r.reg.MustRegister(r.httpLatency, r.wsConns, r.wsClosed, r.steps, r.stepErrors, r.timerLag, r.writeWait, r.groupSize, r.groupTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Handler serves the metrics in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Middleware times every request by its route pattern (never the raw path,
// which would let ids blow up the label set).
func (r *Registry) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		began := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			if fe, ok := err.(*fiber.Error); ok {
				status = fe.Code
			}
		}
		route := "unmatched"
		if rt := c.Route(); rt != nil && rt.Path != "/" && rt.Path != "" {
			route = rt.Path
		}
		r.httpLatency.WithLabelValues(c.Method(), route, strconv.Itoa(status/100)+"xx").Observe(time.Since(began).Seconds())
		return err
	}
}

// WebsocketOpened counts an open connection of kind.
func (r *Registry) WebsocketOpened(kind string) { r.wsConns.WithLabelValues(kind).Inc() }

// WebsocketClosed counts a closed connection of kind with its close code.
func (r *Registry) WebsocketClosed(kind string, code int) {
	r.wsConns.WithLabelValues(kind).Dec()
	r.wsClosed.WithLabelValues(kind, strconv.Itoa(code)).Inc()
}

// StepDone implements chat.Metrics.
func (r *Registry) StepDone(kind engine.EventType, d time.Duration, err error) {
	r.steps.WithLabelValues(string(kind)).Observe(d.Seconds())
	if err != nil {
		r.stepErrors.WithLabelValues(string(kind)).Inc()
	}
}

// WriteWaited implements storage.WriteObserver.
func (r *Registry) WriteWaited(d time.Duration) { r.writeWait.Observe(d.Seconds()) }

// WriteGroup implements storage.WriteObserver.
func (r *Registry) WriteGroup(size int, d time.Duration) {
	r.groupSize.Observe(float64(size))
	r.groupTime.Observe(d.Seconds())
}

// TimerFired implements chat.Metrics.
func (r *Registry) TimerFired(lag time.Duration) {
	if lag < 0 {
		lag = 0
	}
	r.timerLag.Observe(lag.Seconds())
}
