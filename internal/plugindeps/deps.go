//go:build plugindeps

package plugindeps

import (
	_ "github.com/stretchr/testify/assert"
	_ "github.com/stretchr/testify/require"
)
