package host

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lendgate/lendgate/sdk"
)

func TestRedirectCacheIsBounded(t *testing.T) {
	var c redirectCache
	now := time.Unix(1_000_000, 0)
	soon, later := now.Add(time.Minute), now.Add(10*time.Minute)
	for i := range maxRedirectEntries {
		exp := later
		if i%2 == 0 {
			exp = soon
		}
		if c.entry(strconv.Itoa(i), exp, now) == nil {
			t.Fatalf("entry %d refused below the bound", i)
		}
	}
	if c.entry("one more", later, now) != nil {
		t.Fatal("the cache grew past its bound while every URL was still valid")
	}
	if c.entry("0", soon, now) == nil {
		t.Fatal("a full cache lost a remembered URL")
	}
	// Once half the URLs have expired, their entries make room.
	if c.entry("one more", later, soon.Add(time.Second)) == nil {
		t.Fatal("a full cache did not drop the entries of expired URLs")
	}
	if n := len(c.entries); n != maxRedirectEntries/2+1 {
		t.Errorf("%d entries after the sweep, want %d", n, maxRedirectEntries/2+1)
	}
}

// TestRedirectPrefersContentThenManifestThenStream: a redirect URL goes to
// the content link of its format; an audiobook that only streams goes to
// its manifest, else to its web player; a supplement never stands in.
func TestRedirectPrefersContentThenManifestThenStream(t *testing.T) {
	supplement := Link{Format: "audiobook", Rel: "supplement", Href: "https://d.example/booklet.pdf", Name: "Booklet"}
	stream := Link{Format: "audiobook", Rel: "stream", Href: "https://d.example/play"}
	manifest := Link{Format: "audiobook", Rel: "manifest", Href: "https://d.example/manifest.json"}
	content := Link{Format: "audiobook", Rel: "content", Href: "https://d.example/book.zip"}
	epub := Link{Format: "epub", Rel: "content", Href: "https://d.example/book.epub"}
	for _, c := range []struct {
		name   string
		links  []Link
		format string
		want   string
		ok     bool
	}{
		{"content first", []Link{supplement, stream, manifest, content}, "audiobook", content.Href, true},
		{"then the manifest", []Link{supplement, stream, manifest, epub}, "audiobook", manifest.Href, true},
		{"then the stream", []Link{supplement, stream, epub}, "audiobook", stream.Href, true},
		{"never a supplement", []Link{supplement, epub}, "audiobook", "", false},
		{"the asked format", []Link{stream, epub}, "epub", epub.Href, true},
		{"any format", []Link{stream, manifest}, "", manifest.Href, true},
		{"an unsafe content link is skipped", []Link{{Format: "audiobook", Rel: "content", Href: "javascript:alert(1)"}, stream}, "audiobook", stream.Href, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, ok := redirectLink(c.links, c.format)
			if ok != c.ok || l.Href != c.want {
				t.Fatalf("redirectLink: got %q, %v; want %q, %v", l.Href, ok, c.want, c.ok)
			}
		})
	}
}

// TestLinkTypeReachesTheAPI: a link's media type is passed on, bounded
// like its other texts, and an empty rel reads as content.
func TestLinkTypeReachesTheAPI(t *testing.T) {
	long := strings.Repeat("x", 3*maxLinkText)
	got := linksFromSDK([]sdk.Link{
		{Format: sdk.FormatAudiobook, Rel: sdk.RelManifest, Href: "https://d.example/m.json", Type: sdk.MediaTypeAudiobookManifest},
		{Format: sdk.FormatEPUB, Href: "https://d.example/b.epub", Type: long},
	})
	if len(got) != 2 || got[0].Type != sdk.MediaTypeAudiobookManifest || got[0].Rel != sdk.RelManifest {
		t.Fatalf("links: %+v", got)
	}
	if len(got[1].Type) != maxLinkText || got[1].Rel != sdk.RelContent {
		t.Fatalf("an overlong type is cut to %d bytes and an empty rel is content: type %d bytes, rel %q", maxLinkText, len(got[1].Type), got[1].Rel)
	}
}
