package config

import "fmt"

// checkClients refuses an account with half of its OAuth2 client
// credentials, and a client id two accounts share.
func (d *Directory) checkClients() error {
	owner := map[string]string{}
	for _, a := range d.Accounts {
		if (a.ClientID == "") != (a.ClientSecret == "") {
			return fmt.Errorf("config: account %s: give both clientId and clientSecret, or neither", a.ID)
		}
		if a.ClientID == "" {
			continue
		}
		if other, dup := owner[a.ClientID]; dup {
			return fmt.Errorf("config: account %s: clientId %q is account %s's", a.ID, a.ClientID, other)
		}
		owner[a.ClientID] = a.ID
	}
	return nil
}

// AuthenticateClient returns the account whose OAuth2 client credentials
// these are.
func (d *Directory) AuthenticateClient(clientID, clientSecret string) (*Account, bool) {
	return d.match(clientID, clientSecret, func(a *Account) (string, string, bool) {
		return a.ClientID, a.ClientSecret, a.ClientID != ""
	})
}

// Account returns the account with an id.
func (d *Directory) Account(id string) (*Account, bool) {
	for _, a := range d.Accounts {
		if a.ID == id {
			return a, true
		}
	}
	return nil, false
}
