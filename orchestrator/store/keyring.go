package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/opstower/opstower/shared/secret"
)

// KeyEnv is the environment variable that holds the operator's keys.
const KeyEnv = "OPSTOWER_SECRET_KEY"

// Keyring encrypts connection secrets at rest with AES-256-GCM. Each
// ciphertext is stored with the id of its key, so keys can rotate: put the
// new key first and keep the old ones after it until Reseal has run.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// ParseKeyring reads keys written as "ID:BASE64,ID:BASE64" (the first
// one encrypts; all decrypt) or a single base64 key, whose id is then
// derived from it. Each key is 32 random bytes; GenerateKey makes one.
func ParseKeyring(spec string) (*Keyring, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("no key given")
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		id, b64, ok := strings.Cut(part, ":")
		if !ok {
			b64, id = part, ""
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			raw, err = base64.RawURLEncoding.DecodeString(b64)
		}
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("%s: key %d is not 32 bytes of base64; generate one with `opstower host keygen`", KeyEnv, i+1)
		}
		secret.New(b64)
		if id == "" {
			sum := sha256.Sum256(raw)
			id = hex.EncodeToString(sum[:4])
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("%s: key id %q appears twice", KeyEnv, id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.aeads[id] = aead
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

// GenerateKey returns a new key in the form ParseKeyring reads.
func GenerateKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	var id [4]byte
	_, _ = rand.Read(id[:])
	return hex.EncodeToString(id[:]) + ":" + base64.StdEncoding.EncodeToString(b[:])
}

// CurrentID is the id of the key that encrypts.
func (k *Keyring) CurrentID() string { return k.current }

// Seal encrypts plaintext bound to aad (the row it belongs to, so a
// ciphertext copied to another row does not decrypt). The nonce is
// prepended to the ciphertext.
func (k *Keyring) Seal(plaintext, aad []byte) (keyID string, ciphertext []byte) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return k.current, aead.Seal(nonce, nonce, plaintext, aad)
}

// Open decrypts a ciphertext made by Seal with the key keyID.
func (k *Keyring) Open(keyID string, ciphertext, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("the secret was encrypted with key %q, which is not in %s; add that key after the current one", keyID, KeyEnv)
	}
	if len(ciphertext) < aead.NonceSize() {
		return nil, errors.New("the stored secret is truncated")
	}
	n := aead.NonceSize()
	out, err := aead.Open(nil, ciphertext[:n], ciphertext[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("the stored secret does not decrypt with key %q (wrong key, or the data was altered)", keyID)
	}
	return out, nil
}
