#include "netlink.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <linux/genetlink.h>

namespace iscsi::kmod {
namespace {

constexpr uint16_t kFamily = 0x1d;
constexpr uint32_t kSequence = 41;

// A receive buffer assembled message by message, as the kernel would send it.
class Buffer {
public:
    Buffer& message(uint16_t type, uint16_t flags, uint32_t sequence, const std::string& payload) {
        nlmsghdr h{};
        h.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + payload.size());
        h.nlmsg_type = type;
        h.nlmsg_flags = flags;
        h.nlmsg_seq = sequence;
        append(&h, sizeof h);
        append(payload.data(), payload.size());
        pad();
        return *this;
    }
    Buffer& data(uint32_t sequence = kSequence) {
        genlmsghdr g{};
        g.cmd = 1;
        g.version = 1;
        return message(kFamily, NLM_F_MULTI, sequence, std::string(reinterpret_cast<const char*>(&g), sizeof g));
    }
    // NLMSG_ERROR: errno (negative), the echoed request header, then TLVs.
    Buffer& error(int code, uint16_t flags, const std::string& tlvs, const std::string& echoed_payload = {}) {
        std::string payload;
        int value = code;
        payload.append(reinterpret_cast<const char*>(&value), sizeof value);
        nlmsghdr request{};
        request.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + echoed_payload.size());
        request.nlmsg_seq = kSequence;
        payload.append(reinterpret_cast<const char*>(&request), sizeof request);
        payload += echoed_payload;
        while (payload.size() % 4) payload.push_back('\0');
        payload += tlvs;
        return message(NLMSG_ERROR, flags, kSequence, payload);
    }
    const void* bytes() const { return storage_.data(); }
    size_t size() const { return bytes_.size(); }
    void seal() {
        storage_.assign((bytes_.size() + 7) / 8, 0);
        std::memcpy(storage_.data(), bytes_.data(), bytes_.size());
    }

private:
    void append(const void* p, size_t n) { bytes_.append(static_cast<const char*>(p), n); }
    void pad() {
        while (bytes_.size() % 4) bytes_.push_back('\0');
    }
    std::string bytes_;
    std::vector<uint64_t> storage_;
};

std::string tlv(uint16_t type, const std::string& value) {
    nlattr a{};
    a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + value.size());
    a.nla_type = type;
    std::string out(reinterpret_cast<const char*>(&a), sizeof a);
    out += value;
    while (out.size() % 4) out.push_back('\0');
    return out;
}

std::string u32_bytes(uint32_t v) {
    return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

Result<ReplyChunk> split(Buffer& b) {
    b.seal();
    return split_reply(b.bytes(), b.size(), kSequence, kFamily);
}

TEST(SplitReply, CollectsDataUntilTheAck) {
    Buffer b;
    b.data().data().error(0, NLM_F_CAPPED, "");
    auto chunk = split(b);
    ASSERT_TRUE(chunk) << chunk.error().message;
    EXPECT_EQ(chunk->messages.size(), 2u);
    EXPECT_TRUE(chunk->finished);
}

TEST(SplitReply, ADumpIsUnfinishedUntilDone) {
    Buffer b;
    b.data().data();
    auto chunk = split(b);
    ASSERT_TRUE(chunk);
    EXPECT_FALSE(chunk->finished);

    Buffer done;
    done.message(NLMSG_DONE, NLM_F_MULTI, kSequence, u32_bytes(0));
    auto end = split(done);
    ASSERT_TRUE(end);
    EXPECT_TRUE(end->finished);
    EXPECT_TRUE(end->messages.empty());
}

TEST(SplitReply, SkipsAnswersToOtherRequests) {
    Buffer b;
    b.data(kSequence - 1).data();
    auto chunk = split(b);
    ASSERT_TRUE(chunk);
    EXPECT_EQ(chunk->messages.size(), 1u);
}

TEST(SplitReply, CarriesTheExtendedAckMessage) {
    Buffer b;
    b.error(-ENOENT, NLM_F_CAPPED | NLM_F_ACK_TLVS, tlv(NLMSGERR_ATTR_MSG, std::string("unknown target") + '\0'));
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, ENOENT);
    EXPECT_EQ(chunk.error().message, "unknown target: No such file or directory");
}

TEST(SplitReply, FindsTheExtendedAckAfterAnEchoedRequest) {
    Buffer b;
    b.error(-EINVAL, NLM_F_ACK_TLVS,
            tlv(NLMSGERR_ATTR_MSG, std::string("TPGT out of range") + '\0') + tlv(NLMSGERR_ATTR_OFFS, u32_bytes(28)),
            std::string(20, 'x'));
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, EINVAL);
    EXPECT_EQ(chunk.error().message,
              "TPGT out of range (offending attribute at byte 28 of the request): Invalid argument");
}

TEST(SplitReply, NamesAMissingAttribute) {
    Buffer b;
    b.error(-EINVAL, NLM_F_CAPPED | NLM_F_ACK_TLVS, tlv(NLMSGERR_ATTR_MISS_TYPE, u32_bytes(7)));
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().message, "missing attribute type 7: Invalid argument");
}

TEST(SplitReply, WithoutExtendedAckUsesTheErrno) {
    Buffer b;
    b.error(-EPERM, NLM_F_CAPPED, "");
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, EPERM);
    EXPECT_EQ(chunk.error().message, std::strerror(EPERM));
}

TEST(SplitReply, IgnoresAMalformedExtendedAck) {
    std::string broken = tlv(NLMSGERR_ATTR_MSG, "abc");
    broken[0] = 100;  // nla_len beyond the message
    Buffer b;
    b.error(-EIO, NLM_F_CAPPED | NLM_F_ACK_TLVS, broken);
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, EIO);
}

TEST(SplitReply, ReportsADumpThatEndsInError) {
    Buffer b;
    b.data().message(NLMSG_DONE, NLM_F_MULTI, kSequence, u32_bytes(static_cast<uint32_t>(-ENOMEM)));
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, ENOMEM);
}

TEST(SplitReply, RefusesAMessageLongerThanTheBuffer) {
    Buffer b;
    b.data();
    b.seal();
    auto chunk = split_reply(b.bytes(), b.size() - 2, kSequence, kFamily);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, EBADMSG);
}

TEST(SplitReply, RefusesATruncatedHeader) {
    Buffer b;
    b.data();
    b.seal();
    auto chunk = split_reply(b.bytes(), 10, kSequence, kFamily);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, EBADMSG);
}

TEST(SplitReply, RefusesATruncatedErrorMessage) {
    Buffer b;
    b.message(NLMSG_ERROR, 0, kSequence, u32_bytes(static_cast<uint32_t>(-EINVAL)));
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, EBADMSG);
}

TEST(SplitReply, RefusesAnotherFamilysMessage) {
    Buffer b;
    b.message(kFamily + 1, 0, kSequence, std::string(GENL_HDRLEN, '\0'));
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, EPROTO);
}

TEST(SplitReply, RefusesAMessageWithoutGenlHeader) {
    Buffer b;
    b.message(kFamily, 0, kSequence, "");
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, EBADMSG);
}

TEST(SplitReply, ReportsAnOverrun) {
    Buffer b;
    b.message(NLMSG_OVERRUN, 0, kSequence, "");
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, ENOBUFS);
}

TEST(SplitReply, RefusesAnErrnoThatIsNotNegative) {
    Buffer b;
    b.error(5, NLM_F_CAPPED, "");
    auto chunk = split(b);
    ASSERT_FALSE(chunk);
    EXPECT_EQ(chunk.error().code, EPROTO);
}

}  // namespace
}  // namespace iscsi::kmod
