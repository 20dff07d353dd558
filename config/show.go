package config

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// secretKeys are the keys whose values show, shows as hidden.
var secretKeys = map[string]bool{"password": true, "secret": true}

// EffectiveYAML is the configuration in force, as YAML: every default
// applied, the contracts in force (built in or from the file, each marked
// with where it comes from), customers.unidentified.on_call decided, and
// passwords and secrets hidden.
func (c *Config) EffectiveYAML() ([]byte, error) {
	eff := *c
	ks, from := c.Contracts()
	eff.Customers.Contracts = ks
	on := c.UnidentifiedOnCall()
	eff.Customers.Unidentified.OnCall = &on
	var root yaml.Node
	if err := root.Encode(&eff); err != nil {
		return nil, fmt.Errorf("effective configuration: %w", err)
	}
	hideSecrets(&root)
	if n := lookup(&root, "customers", "contracts"); n != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			n.Content[i].LineComment = string(from[n.Content[i].Value])
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("effective configuration: %w", err)
	}
	return b.Bytes(), nil
}

// hideSecrets replaces the values of password and secret keys.
func hideSecrets(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := n.Content[i+1]; secretKeys[n.Content[i].Value] && v.Kind == yaml.ScalarNode && v.Value != "" {
				v.Value, v.Style, v.Tag = "(hidden)", 0, "!!str"
			}
		}
	}
	for _, c := range n.Content {
		hideSecrets(c)
	}
}

// lookup finds the node at a path of keys under a mapping.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}
