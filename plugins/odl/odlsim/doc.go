// Package odlsim simulates an ODL 1.0 distributor ("OPDS for
// Distributors", with Readium License Status Documents 1.0) for tests,
// benchmarks and the sandbox: an OPDS 2 feed of publications with their
// licences, License Info Documents, the templated borrow link, License
// Status Documents (LSD) with their return, renew and register links, a
// minimal LCP licence per loan, and notifications POSTed to each loan's
// notification_url. It is an http.Handler that keeps its state in memory
// and is ready for httptest.NewServer:
//
//	sim := odlsim.New()
//	defer sim.Close() // stops the notification sender
//	srv := httptest.NewServer(sim)
//	feedURL := sim.FeedURL(srv.URL)
//
// # Endpoints
//
//   - GET /feed?page=N (auth): an OPDS 2 feed, DefaultPageSize publications
//     a page (WithPageSize), paged through rel "next". Each publication has
//     metadata.identifier (urn:isbn:… or another URI) and a "licenses"
//     collection: metadata {identifier, format, created, terms {checkouts,
//     expires, concurrency, length}, protection} and links rel
//     http://opds-spec.org/acquisition/borrow (templated:
//     …/checkout{?id,checkout_id,expires,patron_id,passphrase,hint,hint_url,notification_url},
//     passphrase, hint and hint_url only for licences that need them,
//     expires not for License.NoExpires) and rel self (the info document).
//   - GET /licenses/{id}/info (auth): the License Info Document
//     {identifier, status, checkouts {left, available, active [{id,
//     patron_id, expires, href}]}, format, created, terms}. active[].id is
//     the checkout_id. WithInfoVariant writes "patron" for "patron_id" and
//     leaves "left" and "active" out when they do not apply.
//   - POST /checkout?id=…&checkout_id=…&… (auth): 201 with the loan's LSD;
//     the same id and checkout_id again: 303 with Location the LSD made
//     before, nothing changed.
//   - GET /loans/{id}/status: the LSD (no auth). Links self (not with
//     WithoutSelfLinks), and while the loan runs license, register
//     ({?id,name}), return (PUT {?id,name}), renew (PUT {?end,id,name};
//     a text/html page for License.RenewHTML; both plain with
//     WithUntemplatedLinks), publication (License.Publication) and manifest
//     (audiobooks); potential_rights.end; events. Rels are strings, arrays
//     with WithArrayRels.
//   - GET /loans/{id}/license: a minimal LCP licence: rights {start, end},
//     links publication, status (the LSD) and hint.
//   - PUT /loans/{id}/return: active → returned, ready → cancelled; 200
//     with the LSD.
//   - PUT /loans/{id}/renew?end=…: 200 with the LSD; an end past
//     potential_rights.end answers 200 with the end unchanged, as servers
//     do. Without end (untemplated): DefaultRenewPeriod more, within
//     potential_rights.end. GET is the text/html page for people.
//   - POST /loans/{id}/register: ready → active (notified).
//   - GET /publications/{item}/content and …/manifest.json: the file and
//     the audiobook manifest.
//
// The feed, info documents and checkout take HTTP Basic (DefaultUsername,
// DefaultPassword) or Bearer (DefaultToken); anything else is 401.
//
// # Loans and licences
//
// A checkout needs the licence's status available, the licence not
// expired, a checkout left and a copy free (running loans <
// concurrency); every count is kept under one lock, so no number of
// concurrent checkouts ever makes more running loans than the
// concurrency or more checkouts than were left. A loan ends at the
// expires it was made with (at most the licence's length and end away),
// or, when the template has no expires, after the licence's length
// (DefaultLoanLength without one); potential_rights.end is the start plus
// the licence's length (or three default lengths), within the licence's
// end. Loans expire by the simulator's clock (WithClock) when a request
// touches them or on Sweep. New loans are active (WithReadyLoans: ready).
//
// Notifications: on active (from ready), returned, cancelled, revoked and
// expired, a minimal LSD {"id","status"} is POSTed to the loan's
// notification_url, one at a time and in order, tried again on anything
// but 2xx (WithNotifyRetry: 5 tries, 50 ms doubling to 2 s) until it
// runs out of tries or Close. Deliveries lists them.
//
// # How to trigger each error
//
//	400 …/checkout/id                 no id, or no licence with it
//	400 …/checkout/checkout_id        no checkout_id
//	400 …/checkout/patron_id          no patron_id
//	400 …/checkout/expires            expires missing (when the template has it), unreadable, not in the future, or beyond the licence's length or end
//	400 …/checkout/notification_url   not an absolute URL
//	400 …/checkout/passphrase|hint|hint_url   missing for a licence that needs them (ISBNLCP), hint_url not a URL
//	403 …/checkout/unavailable        preorder, no checkout left (ISBNExhausted), every copy lent (ISBNOneCopy twice); 400 with WithUnavailableStatus(400)
//	403 …/checkout/expired            the licence has ended (ISBNExpired)
//	400 …/error/return                a licence without return (ISBNNoReturn), a revoked loan
//	403 …/error/return/already        returned or cancelled before
//	403 …/error/return/expired        the loan expired
//	403 …/error/renew                 a loan that is not running, a licence renewed by hand (ISBNNoRenew)
//	403 …/error/renew/date            end not after the loan's end
//	400 …/error/renew                 end unreadable
//	401 …/odl/error                   wrong or missing credentials
//	404                               unknown LSD or licence
//
// (…/checkout/ is http://opds-spec.org/odl/error/checkout/; …/error/ is
// http://readium.org/license-status-document/error/.)
//
// # Test data
//
// See Catalogue and the ISBN… and License… constants: every ISBN has a
// valid check digit; ISBNUnknown is in no feed.
//
// # Faults, hooks and state
//
// SetFaults applies Faults to API requests (all, or some endpoints, for a
// number of requests or until cleared): latency, an error status with a
// problem type and Retry-After, garbage bodies, dropped connections, and
// the request carried out and then its answer lost (DropAfter,
// BadGatewayAfter, GarbageAfter, Late). Calls, CallsTo and Requests count
// and record requests (never credentials). Loans, Loan, LoansOf, Lent,
// Returned, Renewed and License expose the state; AddLicense, Revoke,
// EndSilently (no notification), Activate and Sweep act as the
// distributor would; Wait waits for a condition; Reset forgets
// everything.
package odlsim
