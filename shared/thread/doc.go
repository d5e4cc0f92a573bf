// Package thread decides which conversation a message belongs to and what a thread looks
// like after a message joins it.
//
// A message joins the thread of the first message of the same inbox that it names, trying
// In-Reply-To first and then References from the most recent ancestor backwards (RFC 5322
// §3.6.4: References lists the thread's ids oldest first, so its tail is the parent). Ids are
// compared in canonical form (mail.CanonicalMessageID), which survives the brackets, case and
// whitespace that clients mangle. Subjects are not used: "Re: invoice" from two strangers is
// not one conversation. A message whose ancestors Pigeon never saw starts a new thread; a
// parent that arrives after its reply is not merged back.
package thread
