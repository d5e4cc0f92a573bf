// Package ses talks to Amazon SES v2 for Pigeon: it sends composed raw mail with the
// configuration set and the tags that let delivery events find their message, and turns SES's
// errors into three kinds the API can answer with (rejected, throttled, unavailable).
package ses
