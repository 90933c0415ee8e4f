package api

import (
	"fmt"

	"github.com/voicehook/voicehook/internal/config"
)

// checkFrom refuses a createCall from a number that is not the account's:
// the dialect places calls from a number of the account only. An account
// whose applications list no numbers, and the dev account (which takes any
// applicationId), take any from.
func checkFrom(account *config.Account, from string) error {
	if account.AnyApplication {
		return nil
	}
	listed := false
	for _, app := range account.Applications {
		for _, r := range app.Numbers {
			if r.Contains(from) {
				return nil
			}
			listed = true
		}
	}
	if !listed {
		return nil
	}
	return validation(fmt.Sprintf("Invalid from: %s is not a number of account %s", from, account.ID))
}
