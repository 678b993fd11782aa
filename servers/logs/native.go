package logs

import "github.com/opstower/opstower/shared/toolkit"

// nativeTools are the tools of providers with a query language of their
// own, added only when such a connection is loaded.
func (h *handlers) nativeTools() []toolkit.Tool { return nil }
