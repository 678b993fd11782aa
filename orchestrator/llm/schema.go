package llm

import "sort"

// dialect says which JSON Schema features a provider's tool declarations
// accept.
type dialect struct {
	// keepAdditional keeps additionalProperties; Gemini's function
	// declarations reject it in nested objects on some models.
	keepAdditional bool
}

var (
	anthropicDialect = dialect{keepAdditional: true}
	openAIDialect    = dialect{keepAdditional: true}
	geminiDialect    = dialect{}
)

// dropped are schema keywords no provider needs and some refuse.
var dropped = map[string]bool{"$schema": true, "$id": true, "$comment": true, "examples": true, "deprecated": true, "readOnly": true, "writeOnly": true}

// adaptSchema returns a copy of an MCP tool's input schema in d's dialect.
//
// MCP servers built with the Go SDK infer schemas that say "type":
// ["null","array"] for slices and ["null",T] for pointers. OpenAI-compatible
// servers (Ollama, vLLM) and Gemini reject type arrays, and the null adds
// nothing for an optional property (it is simply left out), so a union of
// null and one type becomes that type. Any other union becomes anyOf.
func adaptSchema(s map[string]any, d dialect) map[string]any {
	if s == nil {
		return map[string]any{"type": "object", "properties": map[string]any{}}
	}
	out, _ := adaptValue(s, d).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	if _, ok := out["type"]; !ok {
		out["type"] = "object"
	}
	if out["type"] == "object" {
		if _, ok := out["properties"]; !ok {
			out["properties"] = map[string]any{}
		}
	}
	return out
}

func adaptValue(v any, d dialect) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if dropped[k] || (k == "additionalProperties" && !d.keepAdditional) {
				continue
			}
			switch k {
			case "properties", "$defs", "definitions", "patternProperties":
				// Maps of schemas: keys are names, not keywords.
				if m, ok := val.(map[string]any); ok {
					pm := make(map[string]any, len(m))
					for name, ps := range m {
						pm[name] = adaptValue(ps, d)
					}
					out[k] = pm
					continue
				}
			case "type":
				if types, ok := val.([]any); ok {
					adaptTypes(out, types)
					continue
				}
			case "required":
				// Keep as is (names).
				out[k] = val
				continue
			}
			out[k] = adaptValue(val, d)
		}
		// anyOf produced from a type union must merge with an existing one.
		if alts, ok := out["anyOf"].([]any); ok && len(alts) == 0 {
			delete(out, "anyOf")
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = adaptValue(e, d)
		}
		return out
	}
	return v
}

// adaptTypes rewrites a "type" array into out.
func adaptTypes(out map[string]any, types []any) {
	var nonNull []string
	for _, t := range types {
		if s, ok := t.(string); ok && s != "null" {
			nonNull = append(nonNull, s)
		}
	}
	sort.Strings(nonNull)
	switch len(nonNull) {
	case 0:
		out["type"] = "null"
	case 1:
		out["type"] = nonNull[0]
	default:
		alts := make([]any, len(nonNull))
		for i, t := range nonNull {
			alts[i] = map[string]any{"type": t}
		}
		out["anyOf"] = alts
	}
}
