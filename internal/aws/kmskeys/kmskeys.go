// Package kmskeys is the AWS tokens.DataKeys: KMS GenerateDataKey/Decrypt
// under one key, with the encryption context passed through so KMS (and
// CloudTrail) bind every data key to its user.
package kmskeys

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// API is the part of the KMS client Keys uses (*kms.Client satisfies it).
type API interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Keys makes and opens data keys under the KMS key KeyID.
type Keys struct {
	Client API
	KeyID  string
}

// GenerateDataKey returns a fresh AES-256 data key and its KMS ciphertext.
func (k Keys) GenerateDataKey(ctx context.Context, encCtx map[string]string) (plaintext, wrapped []byte, err error) {
	out, err := k.Client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(k.KeyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: encCtx,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("kms generate data key: %w", err)
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// Decrypt opens a data key; KMS refuses it unless encCtx matches.
func (k Keys) Decrypt(ctx context.Context, wrapped []byte, encCtx map[string]string) ([]byte, error) {
	out, err := k.Client.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(k.KeyID), CiphertextBlob: wrapped, EncryptionContext: encCtx,
	})
	if err != nil {
		return nil, fmt.Errorf("kms decrypt data key: %w", err)
	}
	return out.Plaintext, nil
}
