package main

import (
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette is Tableau 10: one distinct colour per scenario.
var palette = []color.Color{
	color.RGBA{0x4e, 0x79, 0xa7, 0xff}, color.RGBA{0xf2, 0x8e, 0x2b, 0xff}, color.RGBA{0xe1, 0x57, 0x59, 0xff},
	color.RGBA{0x76, 0xb7, 0xb2, 0xff}, color.RGBA{0x59, 0xa1, 0x4f, 0xff}, color.RGBA{0xed, 0xc9, 0x48, 0xff},
	color.RGBA{0xb0, 0x7a, 0xa1, 0xff}, color.RGBA{0xff, 0x9d, 0xa7, 0xff}, color.RGBA{0x9c, 0x75, 0x5f, 0xff},
	color.RGBA{0xba, 0xb0, 0xac, 0xff},
}

// chart draws throughput and p99 against concurrency side by side, one
// line per scenario, with a shared legend below, in the format of path's
// extension (svg for the report), with gonum/plot.
func (r *report) chart(path string) error {
	const width, height, legendHeight = 11 * vg.Inch, 5.3 * vg.Inch, 0.9 * vg.Inch
	throughput := r.panel("Throughput", "calls per second", false, func(x row) float64 { return x.throughput() })
	p99 := r.panel("p99 latency", "p99 (ms, log scale)", true, func(x row) float64 { return float64(x.p99) / float64(time.Millisecond) })
	var legends [2]plot.Legend
	for i := range legends {
		legends[i] = plot.NewLegend()
		legends[i].Top, legends[i].Left = true, true
	}
	scenarios := r.scenarios()
	for i, sc := range scenarios {
		line, glyph := style(i)
		var thumbs []plot.Thumbnailer
		for _, pn := range []panel{throughput, p99} {
			pts := pn.series[sc]
			if len(pts) == 0 {
				continue
			}
			l, s, err := plotter.NewLinePoints(pts)
			if err != nil {
				return err
			}
			l.LineStyle, s.GlyphStyle = line, glyph
			pn.plot.Add(l, s)
			if thumbs == nil {
				thumbs = []plot.Thumbnailer{l, s}
			}
		}
		if thumbs != nil {
			legends[i*len(legends)/len(scenarios)].Add(sc, thumbs...)
		}
	}

	c, err := draw.NewFormattedCanvas(width, height, strings.TrimPrefix(filepath.Ext(path), "."))
	if err != nil {
		return err
	}
	dc := draw.New(c)
	plots := draw.Crop(dc, 0, 0, legendHeight, 0)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: 0.4 * vg.Inch, PadTop: 0.1 * vg.Inch, PadLeft: 0.1 * vg.Inch, PadRight: 0.2 * vg.Inch}
	throughput.plot.Draw(tiles.At(plots, 0, 0))
	p99.plot.Draw(tiles.At(plots, 1, 0))
	below := draw.Crop(dc, 0.6*vg.Inch, 0, 0.05*vg.Inch, -(height - legendHeight))
	halves := draw.Tiles{Rows: 1, Cols: 2}
	for i := range legends {
		legends[i].Draw(halves.At(below, i, 0))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type panel struct {
	plot   *plot.Plot
	series map[string]plotter.XYs
}

// panel is one chart of value against concurrency.
func (r *report) panel(title, ylabel string, logY bool, value func(row) float64) panel {
	p := plot.New()
	p.Title.Text = title + " against concurrency"
	p.X.Label.Text = "concurrent clients (log scale)"
	p.Y.Label.Text = ylabel
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for _, c := range r.opts.conc {
		ticks = append(ticks, plot.Tick{Value: float64(c), Label: strconv.Itoa(c)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	// A margin on each side: with a single concurrency (-conc 1) the axis
	// would otherwise span nothing, and widening it by one would reach 0,
	// which a log scale cannot show.
	p.X.Min, p.X.Max = float64(slices.Min(r.opts.conc))/1.25, float64(slices.Max(r.opts.conc))*1.25
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	} else {
		p.Y.Min = 0
	}
	p.Add(plotter.NewGrid())
	out := panel{plot: p, series: map[string]plotter.XYs{}}
	for _, x := range r.rows {
		if v := value(x); v > 0 {
			out.series[x.scenario] = append(out.series[x.scenario], plotter.XY{X: float64(x.conc), Y: v})
		}
	}
	return out
}

// style is scenario i's line and marker.
func style(i int) (draw.LineStyle, draw.GlyphStyle) {
	c := palette[i%len(palette)]
	return draw.LineStyle{Color: c, Width: vg.Points(1.5), Dashes: plotutil.Dashes(i)},
		draw.GlyphStyle{Color: c, Radius: vg.Points(3), Shape: plotutil.Shape(i)}
}
