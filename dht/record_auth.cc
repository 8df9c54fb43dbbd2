#include "dht/record_auth.h"

#include <sodium.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace kad::dht {
namespace {

using storage::Record;
using storage::RecordKind;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

void AppendLengthPrefixed(std::string& out, std::string_view bytes) {
  out.push_back(static_cast<char>(bytes.size()));
  out.append(bytes);
}

std::string Blake2b160(std::string_view input) {
  std::string out(storage::kAddressBytes, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     Bytes(input), input.size(), nullptr, 0);
  return out;
}

absl::Status VerifySigned(const Record& record) {
  if (record.key != SignedAddress(record.public_key, record.name)) {
    return absl::PermissionDeniedError(
        "the key is not the address of this public key and name");
  }
  const std::string payload =
      SignedPayload(record.name, record.seq, record.value);
  if (crypto_sign_verify_detached(Bytes(record.signature), Bytes(payload),
                                  payload.size(),
                                  Bytes(record.public_key)) != 0) {
    return absl::PermissionDeniedError("the signature does not verify");
  }
  return absl::OkStatus();
}

absl::Status Conflict(const Record& held, std::string_view why) {
  return absl::AbortedError(
      absl::StrCat("conflict: ", std::string(why), "; seq ", held.seq, " is held"));
}

}  // namespace

KeyPair GenerateKeyPair() {
  KeyPair pair{std::string(crypto_sign_PUBLICKEYBYTES, '\0'),
               std::string(crypto_sign_SECRETKEYBYTES, '\0')};
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(pair.public_key.data()),
                      reinterpret_cast<unsigned char*>(pair.secret_key.data()));
  return pair;
}

std::string RandomSeed() {
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  return seed;
}

void Wipe(std::string& secret) { sodium_memzero(secret.data(), secret.size()); }

absl::StatusOr<KeyPair> KeyPairFromSeed(std::string_view seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a key seed is ", crypto_sign_SEEDBYTES, " bytes, not ", seed.size()));
  }
  KeyPair pair{std::string(crypto_sign_PUBLICKEYBYTES, '\0'),
               std::string(crypto_sign_SECRETKEYBYTES, '\0')};
  crypto_sign_seed_keypair(
      reinterpret_cast<unsigned char*>(pair.public_key.data()),
      reinterpret_cast<unsigned char*>(pair.secret_key.data()), Bytes(seed));
  return pair;
}

absl::StatusOr<KeyPair> KeyPairFromSecret(std::string_view secret_key) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return absl::InvalidArgumentError(
        absl::StrCat("a secret key is ", crypto_sign_SECRETKEYBYTES,
                     " bytes, not ", secret_key.size()));
  }
  KeyPair pair{std::string(crypto_sign_PUBLICKEYBYTES, '\0'),
               std::string(crypto_sign_SECRETKEYBYTES, '\0')};
  crypto_sign_seed_keypair(
      reinterpret_cast<unsigned char*>(pair.public_key.data()),
      reinterpret_cast<unsigned char*>(pair.secret_key.data()),
      Bytes(secret_key));
  if (pair.secret_key != secret_key) {
    sodium_memzero(pair.secret_key.data(), pair.secret_key.size());
    return absl::InvalidArgumentError(
        "the secret key's public half does not match its seed");
  }
  return pair;
}

std::string SignedAddress(std::string_view public_key, std::string_view name) {
  std::string input;
  AppendLengthPrefixed(input, kSignedAddressTag);
  input.append(public_key);
  AppendLengthPrefixed(input, name);
  return Blake2b160(input);
}

std::string ImmutableAddress(std::string_view value) {
  std::string input;
  AppendLengthPrefixed(input, kImmutableAddressTag);
  input.append(value);
  return Blake2b160(input);
}

std::string SignedPayload(std::string_view name, uint64_t seq,
                          std::string_view value) {
  std::string payload;
  AppendLengthPrefixed(payload, kSignatureTag);
  AppendLengthPrefixed(payload, name);
  for (int shift = 56; shift >= 0; shift -= 8) {
    payload.push_back(static_cast<char>(seq >> shift));
  }
  return payload.append(value);
}

absl::StatusOr<Record> MakeSignedRecord(const KeyPair& owner, std::string name,
                                        std::string value, uint64_t seq,
                                        absl::Time expires) {
  Record record;
  record.kind = RecordKind::kSigned;
  record.key = SignedAddress(owner.public_key, name);
  record.name = std::move(name);
  record.value = std::move(value);
  record.seq = seq;
  record.expires = expires;
  record.public_key = owner.public_key;
  record.signature.assign(crypto_sign_BYTES, '\0');
  if (absl::Status valid = storage::ValidateRecordSize(record); !valid.ok()) {
    return valid;
  }
  const std::string payload = SignedPayload(record.name, seq, record.value);
  crypto_sign_detached(
      reinterpret_cast<unsigned char*>(record.signature.data()), nullptr,
      Bytes(payload), payload.size(), Bytes(owner.secret_key));
  return record;
}

absl::StatusOr<Record> MakeImmutableRecord(std::string value,
                                           absl::Time expires) {
  Record record;
  record.kind = RecordKind::kImmutable;
  record.key = ImmutableAddress(value);
  record.value = std::move(value);
  record.expires = expires;
  if (absl::Status valid = storage::ValidateRecordSize(record); !valid.ok()) {
    return valid;
  }
  return record;
}

absl::Status VerifyRecord(const Record& record) {
  if (absl::Status valid = storage::ValidateRecordSize(record); !valid.ok()) {
    return valid;
  }
  switch (record.kind) {
    case RecordKind::kOpen:
      return absl::OkStatus();
    case RecordKind::kSigned:
      return VerifySigned(record);
    case RecordKind::kImmutable:
      if (record.key != ImmutableAddress(record.value)) {
        return absl::PermissionDeniedError(
            "the value does not hash to the immutable record's address");
      }
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError("unknown record kind");
}

absl::Status CheckReplace(const std::optional<Record>& held,
                          const Record& candidate,
                          std::optional<uint64_t> expected_seq) {
  if (!held) return absl::OkStatus();
  if (candidate.kind == RecordKind::kOpen && held->kind != RecordKind::kOpen) {
    return Conflict(*held, absl::StrCat("a ", RecordKindName(held->kind),
                                        " record holds this key"));
  }
  if (expected_seq && *expected_seq != held->seq) {
    return Conflict(*held, absl::StrCat("expected seq ", *expected_seq));
  }
  if (candidate.kind != held->kind) return absl::OkStatus();  // open -> proven.
  if (candidate.seq < held->seq) {
    return Conflict(*held, absl::StrCat("seq ", candidate.seq, " is older"));
  }
  if (candidate.seq == held->seq &&
      storage::DigestOf(candidate) != storage::DigestOf(*held)) {
    if (candidate.kind == RecordKind::kOpen &&
        storage::Supersedes(candidate, *held)) {
      return absl::OkStatus();  // Open records keep the digest tie-break.
    }
    return Conflict(*held, absl::StrCat("seq ", candidate.seq,
                                        " is held with another value"));
  }
  return absl::OkStatus();
}

StoreVerdict StoreVerified(storage::RecordStore& store, const Record& record,
                           std::optional<uint64_t> expected_seq,
                           absl::Time now) {
  if (absl::Status valid = VerifyRecord(record); !valid.ok()) {
    return {valid, std::nullopt};
  }
  std::optional<Record> held;
  if (auto found = store.Get(record.key, now); found.ok()) {
    held = *std::move(found);
  }
  if (absl::Status replace = CheckReplace(held, record, expected_seq);
      !replace.ok()) {
    return {replace, held->seq};
  }
  return {store.Put(record, now), std::nullopt};
}

}  // namespace kad::dht
