// Package cbsim simulates Centraal Boekhuis's eBoekhuis
// DigitalProductRentalService, so that the cb connector, its tests and the
// sandbox never call the real distributor. A *Sim is an http.Handler with its
// state in memory, ready for httptest:
//
//	srv := httptest.NewServer(cbsim.New())
//	baseURL := cbsim.BaseURL(srv.URL) // srv.URL + BasePath
//
// # Operations
//
// Both operations are POST with a JSON body under BasePath, with HTTP Basic
// auth (DefaultUsername/DefaultPassword unless WithCredentials says otherwise):
//
//   - placeOrder {"EAN","ReadingMethod","Protection","RentalUnit",
//     "RentalNumberOfUnits","OrderReference","UserId","CbOrderReference"?}
//     answers {"placeOrder":{"CbOrderReference","EAN","URL"}}. With a
//     CbOrderReference the order is an addition to that earlier order: it must
//     exist (EBS-10053) and be for the same UserId (EBS-10054); the addition
//     gets a CbOrderReference of its own and answers the delivery URL of the
//     order it adds to, so the reader's link keeps working.
//   - checkAccess {"EAN","UserId","UserPassword"} answers
//     {"Access":{"Accessable":"Y"|"N"}}: Y when the user (see WithUser) has an
//     order for the EAN or a grant (WithGrant) and the password matches; N
//     otherwise, including a wrong or missing password; EBS-10038 when the
//     user is unknown.
//
// # Errors
//
// Errors are {"Message":{"MessageType":"E","MessageCode":"EBS-…",
// "MessageText":"…"}}. HTTP statuses (the real service's are not documented):
// 400 for a missing or malformed field and for a body that is not a JSON
// object (EBS-00001), 500 for EBS-00001 from its trigger EAN, 200 for every
// other EBS error. Wrong or missing Basic credentials answer a plain 401
// (text body, WWW-Authenticate header, no EBS message); an unknown operation
// answers 404 and a method other than POST 405.
//
// Field checks, in this order, one code per field (the documentation only
// says "EBS-10063 … 10075: a field missing or malformed"):
//
//	EBS-10063 EAN missing                   EBS-10070 RentalUnit not DAG
//	EBS-10064 EAN not 13 digits             EBS-10071 RentalNumberOfUnits missing
//	EBS-10065 ReadingMethod missing         EBS-10072 RentalNumberOfUnits not 1–21
//	EBS-10066 ReadingMethod not D or CR     EBS-10073 OrderReference missing
//	EBS-10067 Protection missing            EBS-10074 OrderReference over 100 chars
//	EBS-10068 Protection not 00, 02 or 03   EBS-10075 UserId missing
//	EBS-10069 RentalUnit missing
//
// then the ReadingMethod/Protection pair (only CR+02, D+02 and D+03:
// EBS-10043), the referenced order of an addition (EBS-10053, EBS-10054), the
// uniqueness of OrderReference (EBS-10005), and last the title itself: an EAN
// not in the catalogue answers EBS-10003.
//
// # Test data
//
// Every trigger EAN has a valid check digit; digits 6–10 of the made-up ones
// spell the EBS code they trigger.
//
//	EANAvailable        9789084999813  available (as in CB's documentation)
//	EANAvailable2       9789900000006  available
//	EANNotFound         9999999999994  EBS-10003 (any EAN not in the catalogue too)
//	EANFailure          9789900001003  EBS-00001 (HTTP 500)
//	EANNotDeliverable   9789910004001  EBS-10004
//	EANNotYet           9789910006005  EBS-10006
//	EANCreditLimit      9789910017001  EBS-10017
//	EANNoCloudReading   9789910034008  EBS-10034 with ReadingMethod CR; available with D
//	EANNoLicence        9789910045004  EBS-10045
//	EANShoulderTail     9789910046001  EBS-10046 unless RentalNumberOfUnits is 21
//	EANNoPrice          9789910060007  EBS-10060
//	EANUnknownCode      9789999999007  EBS-99999, a code CB does not document
//
// # Faults
//
// SetFaults makes every later API request misbehave until SetFaults(Faults{})
// or Reset: first Latency (cut short when the client goes away), then the
// first that is set of Drop (the connection is closed without an answer),
// RetryAfter (429 with a Retry-After header in seconds), Status (that status
// with a JSON body that is not an EBS message) and Garbage (200 with a body
// that is not JSON). LoseAnswer is the distributor that acted and whose
// answer was lost: the request is carried out (an order placed), then its
// answer is replaced as the lostanswer mode says (connection cut, gateway
// 502 page, unreadable 200, 200 over the default size cap). Calls and
// CallsTo count every request received, faulty or not, so tests can assert
// that nothing reached the distributor.
//
// An OrderReference is never used twice: an order or addition re-sent
// under the reference of one already placed answers EBS-10005 and places
// nothing, which is how a connector re-sends a checkout or a renewal whose
// answer it lost.
package cbsim
