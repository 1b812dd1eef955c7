//go:build tools

// The standalone Temporal UI server, built from the Go module proxy: its own go.mod pins two versions the proxy
// refuses, so this module requires it with versions the proxy serves.
package tools

import (
	_ "github.com/temporalio/ui-server/v2/cmd/server"
	_ "github.com/temporalio/ui-server/v2/plugins/fs_config_provider"
)
