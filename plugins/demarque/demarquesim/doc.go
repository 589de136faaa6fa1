// Package demarquesim simulates the De Marque digital warehouse for tests,
// benchmarks and the sandbox: the lending service reached through a
// publication's loan_url, the retail API's download links (2.3) and the
// early-return notification. It is an http.Handler that keeps its state in
// memory and is ready for httptest.NewServer:
//
//	sim := demarquesim.New()
//	srv := httptest.NewServer(sim)
//	loanURL := sim.LoanURL(srv.URL, demarquesim.ISBNAvailable)
//
// # Endpoints
//
//   - POST /loans/{isbn}: the loan_url of publication {isbn} (an **assumed**
//     path: real loan_urls come with the purchase; see LoanURL). Form
//     parameters borrower_id, transaction_id, expire_at (YYYYMMDDTHHMMSS,
//     UTC), notify_url, medium, localisation, duration, ip_address. With
//     expire_at it creates the loan; without it, it regenerates the link of
//     the existing (borrower_id, transaction_id) loan. Answer 200
//     {"url":"<base>/content/<token>"}.
//   - GET /api/organisations/{org}/customers/{customer}/transactions/{transaction}/publications/{isbn}/download_links/{format}?uname=
//     with HTTP Basic auth. Answer 200 {"url":"<base>/dl/<token>"}, a link
//     that expires one minute later by the simulator's clock.
//   - GET /content/{token}: 200 with a small body for a token the lending
//     service issued, 404 otherwise.
//   - GET /dl/{token}: 200 with a small body until the link's minute is over,
//     410 after, 404 for an unknown token.
//
// Only the first two are API requests: they are counted by Calls and
// CallsTo, recorded by Requests, and subject to fault injection.
//
// Errors are JSON {"error":"…","message":"…"} (the body encoding is
// **assumed**; status and error strings of downloads are the seed's).
//
// # Test data
//
// Credentials (options WithOrganisation, WithCredentials): organisation
// "123", username "library", password "secret".
//
// Catalogue (option WithCatalogue replaces it), every ISBN with a valid
// check digit:
//
//	9789084999813  ISBNAvailable
//	9782924253069  ISBNSecond (the brief's 9782924253064 has a wrong check digit)
//	9780306406157  ISBNThird
//
// ISBNUnknown (9782924253083) has a valid check digit and is not in the
// catalogue.
//
// # How to trigger each error
//
// Lending (POST /loans/{isbn}):
//
//	400 missing_transaction_id   no transaction_id
//	400 missing_borrower_id      no borrower_id
//	400 invalid_transaction_id   transaction_id of 255 characters or more
//	400 invalid_borrower_id      borrower_id of 255 characters or more
//	400 invalid_expire_at        expire_at unparsable, not in the future, or more than 60 days ahead
//	400 invalid_medium           medium other than download or streaming
//	400 invalid_localisation     localisation other than on-site or off-site
//	400 missing_localisation     medium streaming without localisation
//	400 transaction_id_in_use    expire_at with a transaction_id already lent to another borrower or publication
//	404 publication_not_found    an ISBN not in the catalogue
//	404 loan_not_found           no expire_at and no such (borrower_id, transaction_id) loan, or it was returned or has expired
//
// A creation repeated with the same transaction_id, borrower_id and
// publication makes no second loan: it updates the loan (expiry, options)
// and answers a fresh URL, so that a retried request is harmless.
//
// Downloads (checked in this order):
//
//	401 access_denied            wrong or missing Basic credentials
//	404 not_found                organisation other than the configured one
//	400 missing_transaction_id   empty transaction segment (…/transactions//publications/…)
//	400 missing_uname            no uname (or an empty one)
//	400 invalid_customer_id      customer not [A-Za-z0-9_-]+
//	400 invalid_format           format not pdf, epub or mobi
//	404 publication_not_found    an ISBN not in the catalogue
//
// Any other path answers 404 {"error":"not_found"}; a wrong method 405.
//
// # Faults, counters and state
//
// SetFaults applies Faults (latency, an error status with Retry-After,
// garbage bodies, dropped connections, a lending answer held after the loan
// was made, an answer lost after the request was carried out: cut, a
// gateway's 502 page, unreadable, over the size cap) to every API request
// until it is called again with the zero Faults. Calls and CallsTo count API requests,
// Requests records them (form and query, never credentials), Loans and Loan
// expose the loans, Return simulates a reader returning early by POSTing the
// notification to the loan's notify_url, and Reset forgets everything.
package demarquesim
