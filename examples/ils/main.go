// Command ils is a minimal ILS written in Go that embeds lendgate as
// middleware in front of its own pages: /v1/…, /healthz, /readyz and
// /metrics are lendgate's; every other path is the ILS's, and its handlers
// reach the host through host.FromContext.
//
//	go run ./examples/ils -config lendgate.json
//
// Its one page, /patrons/{patron}/loans?provider=P, lists a patron's loans
// through the Go API (no HTTP round trip).
package main

import (
	"context"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lendgate/lendgate/host"
)

func main() {
	configPath := flag.String("config", "lendgate.json", "lendgate config file")
	listen := flag.String("listen", "127.0.0.1:8081", "listen address")
	flag.Parse()
	cfg, err := host.LoadConfig(*configPath)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := host.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close(context.Background())
	srv := &http.Server{Addr: *listen, Handler: h.Middleware(ilsPages()), ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	fmt.Printf("ILS on http://%s (lendgate API under /v1/)\n", *listen)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

var loansPage = template.Must(template.New("loans").Parse(`<!doctype html>
<title>Loans of {{.Patron}}</title>
<h1>Loans of {{.Patron}} at {{.Provider}}</h1>
<ul>{{range .Loans}}<li>{{.Item}}: {{.Status}}{{if .ExpiresAt}}, until {{.ExpiresAt.Format "2006-01-02"}}{{end}}</li>{{else}}<li>none</li>{{end}}</ul>
`))

// ilsPages is the ILS's own handler.
func ilsPages() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /patrons/{patron}/loans", func(w http.ResponseWriter, r *http.Request) {
		h, ok := host.FromContext(r.Context())
		if !ok {
			http.Error(w, "lendgate is not mounted", http.StatusInternalServerError)
			return
		}
		provider, patron := r.URL.Query().Get("provider"), r.PathValue("patron")
		loans, err := h.PatronLoans(r.Context(), provider, patron)
		if err != nil {
			http.Error(w, err.Error(), host.CodeOf(err).Status())
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		loansPage.Execute(w, map[string]any{"Patron": patron, "Provider": provider, "Loans": loans})
	})
	return mux
}
