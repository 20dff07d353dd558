package main

import "github.com/astreinte/astreinte/web"

// customerPages is what the web pages and API show of customers,
// contracts and billing: the store's customers, the configured contracts
// and the ledger that prices statements (as `astreinte statement` does).
func customerPages(e *env) *web.CustomerPages {
	return &web.CustomerPages{Store: e.db, Contracts: e.cfg.ContractPolicies(), Ledger: e.ledger()}
}
