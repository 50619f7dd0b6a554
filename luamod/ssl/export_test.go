package ssl

import (
	"sync"
	"time"
)

// ResetPolicyState forgets the legacy-protocol warnings given and the
// peers whose handshake failures were reported, so a test sees them anew.
func ResetPolicyState() {
	legacyWarned = sync.Map{}
	serverFailures.mu.Lock()
	serverFailures.last = map[string]time.Time{}
	serverFailures.mu.Unlock()
}
