package ses

import "strings"

// MessageIDDomain is the domain SES puts on the Message-ID header it writes: email.amazonses.com
// in us-east-1 and <region>.amazonses.com elsewhere (aws-facts.md §2). AWS does not document
// it; the forms come from real mail (In-Reply-To headers answering SES mail) and from other
// projects that depend on them, so treat a mismatch seen in the wild as a bug to fix here.
func MessageIDDomain(region string) string {
	region = strings.ToLower(strings.TrimSpace(region))
	if region == "" || region == "us-east-1" {
		return "email.amazonses.com"
	}
	return region + ".amazonses.com"
}

// MessageIDHeader is the Message-ID that recipients see on mail SES sent with message id
// sesMessageID from region, with its angle brackets: SES replaces whatever Message-ID the raw
// message carried with this one. It is the id Pigeon must report and index for threading,
// because replies name it in In-Reply-To and References.
func MessageIDHeader(sesMessageID, region string) string {
	return "<" + sesMessageID + "@" + MessageIDDomain(region) + ">"
}
