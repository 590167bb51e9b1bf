package vault

// Table schema of the vault's stores, read by the Pulumi program so the
// tables it creates match what the adapters write.
const (
	// KeyAttribute is the string partition key of both the user token table
	// ("user#<id>") and the OAuth state table ("state#<key>").
	KeyAttribute = "pk"
	// StateTTLAttribute is the OAuth state table's time-to-live attribute
	// (epoch seconds).
	StateTTLAttribute = "expires_ttl"
)
