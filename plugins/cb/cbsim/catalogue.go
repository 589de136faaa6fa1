package cbsim

import "net/http"

// Trigger EANs of the test catalogue; see the package documentation.
const (
	EANAvailable      = "9789084999813"
	EANAvailable2     = "9789900000006"
	EANNotFound       = "9999999999994"
	EANFailure        = "9789900001003"
	EANNotDeliverable = "9789910004001"
	EANNotYet         = "9789910006005"
	EANCreditLimit    = "9789910017001"
	EANNoCloudReading = "9789910034008"
	EANNoLicence      = "9789910045004"
	EANShoulderTail   = "9789910046001"
	EANNoPrice        = "9789910060007"
	EANUnknownCode    = "9789999999007"
)

// EBS codes the Sim answers with, and their texts as CB documents them.
const (
	ebsFailure          = "EBS-00001"
	ebsNotFound         = "EBS-10003"
	ebsNotDeliverable   = "EBS-10004"
	ebsDuplicate        = "EBS-10005"
	ebsNotYet           = "EBS-10006"
	ebsCreditLimit      = "EBS-10017"
	ebsReadingMethod    = "EBS-10034"
	ebsUserUnknown      = "EBS-10038"
	ebsCombination      = "EBS-10043"
	ebsNoLicence        = "EBS-10045"
	ebsShoulderTail     = "EBS-10046"
	ebsReferenceUnknown = "EBS-10053"
	ebsOtherUser        = "EBS-10054"
	ebsNoPrice          = "EBS-10060"
	ebsUnknownCode      = "EBS-99999"
)

var texts = map[string]string{
	ebsFailure:          "Something went wrong in processing the order. Your order is not fulfilled.",
	ebsNotFound:         "A product with this EAN is not available.",
	ebsNotDeliverable:   "This product is not available for delivery.",
	ebsDuplicate:        "This OrderReference has already been used, use another reference.",
	ebsNotYet:           "This product can not be ordered yet.",
	ebsCreditLimit:      "Your credit limit has been exceeded.",
	ebsReadingMethod:    "This product is not available for the given reading method.",
	ebsUserUnknown:      "User unknown.",
	ebsCombination:      "The combination of ReadingMethods and Protection is not allowed",
	ebsNoLicence:        "No valid license model found for this order",
	ebsShoulderTail:     "For licensing models Shoulder and Tail, the rental period has to be 3 weeks",
	ebsReferenceUnknown: "Referenced order not found",
	ebsOtherUser:        "Referenced order is not for the same UserId",
	ebsNoPrice:          "Product ordered but no price available yet, please try again tomorrow.",
	ebsUnknownCode:      "Simulated error with a code CB does not document.",
}

// outcome is what ordering a title does; the zero value is a delivery.
type outcome struct {
	code   string // EBS code to answer, "" to deliver
	status int    // HTTP status of the error answer (default 200)
	// onlyCR: the error only applies to ReadingMethod CR.
	onlyCR bool
	// unlessFull: the error applies unless RentalNumberOfUnits is 21.
	unlessFull bool
}

// testCatalogue returns the titles of the package documentation.
func testCatalogue() map[string]outcome {
	return map[string]outcome{
		EANAvailable:      {},
		EANAvailable2:     {},
		EANNotFound:       {code: ebsNotFound},
		EANFailure:        {code: ebsFailure, status: http.StatusInternalServerError},
		EANNotDeliverable: {code: ebsNotDeliverable},
		EANNotYet:         {code: ebsNotYet},
		EANCreditLimit:    {code: ebsCreditLimit},
		EANNoCloudReading: {code: ebsReadingMethod, onlyCR: true},
		EANNoLicence:      {code: ebsNoLicence},
		EANShoulderTail:   {code: ebsShoulderTail, unlessFull: true},
		EANNoPrice:        {code: ebsNoPrice},
		EANUnknownCode:    {code: ebsUnknownCode},
	}
}
