package kmskeys_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/sbalswa/ai3-mvp/internal/aws/kmskeys"
	"github.com/sbalswa/ai3-mvp/internal/aws/kmskeys/kmstest"
	"github.com/sbalswa/ai3-mvp/internal/tokens/tokenstest"
)

func newKeys(d *kmstest.Server, keyID string) kmskeys.Keys {
	client := kms.New(kms.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(d.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	return kmskeys.Keys{Client: client, KeyID: keyID}
}

func TestKMSKeysContract(t *testing.T) {
	d := kmstest.New(t)
	tokenstest.RunDataKeys(t, newKeys(d, d.KeyID))
	if d.Calls("TrentService.GenerateDataKey") != 2 || d.Calls("TrentService.Decrypt") < 5 {
		t.Fatalf("the contract did not go through KMS's wire API")
	}
}

func TestKMSErrorsAreTyped(t *testing.T) {
	d := kmstest.New(t)
	ctx := context.Background()
	_, wrapped, err := newKeys(d, d.KeyID).GenerateDataKey(ctx, map[string]string{"user_id": "1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = newKeys(d, d.KeyID).Decrypt(ctx, wrapped, map[string]string{"user_id": "2"})
	var bad *types.InvalidCiphertextException
	if !errors.As(err, &bad) {
		t.Fatalf("wrong context: %v, want InvalidCiphertextException", err)
	}
	_, _, err = newKeys(d, "alias/missing").GenerateDataKey(ctx, nil)
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown key: %v, want NotFoundException", err)
	}
}
