// Issue 2's "Bad input" list, each sent by a raw client: every one gets the
// answer RFC 7143 asks for (a Login Response with an error status, a
// Reject, or a closed connection), and the daemon keeps serving others.
#include <gtest/gtest.h>

#include "configs.h"
#include "daemon_process.h"
#include "raw_client.h"

using namespace iscsi::testing;

namespace {

constexpr uint8_t kLoginResponse = 0x23;
constexpr uint8_t kReject = 0x3f;

struct BadInput : ::testing::Test {
    std::unique_ptr<DaemonProcess> daemon;

    void SetUp() override { start(kOpenConfig); }
    void start(const std::string& config, const std::string& secrets = "") {
        daemon = std::make_unique<DaemonProcess>(config, secrets);
        ASSERT_TRUE(daemon->start()) << daemon->log();
    }
    void TearDown() override {
        // After each bad input: the daemon is alive and serves a good client.
        ASSERT_TRUE(daemon->running()) << "the daemon died:\n" << daemon->log();
        still_serves();
        EXPECT_EQ(daemon->stop(), 0) << daemon->log();
    }
    virtual void still_serves() {
        RawClient good;
        ASSERT_TRUE(good.connect("127.0.0.1", daemon->port()));
        RawPdu response;
        ASSERT_EQ(good.login({{"InitiatorName", kInitiator}, {"SessionType", "Discovery"}}, response, 0, 1),
                  Answer::Pdu);
        EXPECT_EQ(response.opcode(), kLoginResponse);
        EXPECT_EQ(response.status(), 0) << "a good discovery login after the bad input was refused";
    }
    RawClient connect() {
        RawClient client;
        EXPECT_TRUE(client.connect("127.0.0.1", daemon->port()));
        return client;
    }
    // Sends a first Login Request (security stage -> operational) with these keys.
    Answer first_login(RawClient& client, const std::vector<uint8_t>& data, RawPdu& response) {
        LoginFields fields;
        fields.csg = 0;
        fields.nsg = 1;
        EXPECT_TRUE(client.send(login_request(fields, data)));
        return client.receive(response);
    }
    static std::vector<uint8_t> raw_text(const std::string& text) { return {text.begin(), text.end()}; }
};

// A refused login: a Login Response with status class 2 (initiator error),
// then the target closes (RFC 7143 s.11.13.5, s.7.? "the connection is
// dropped after a login reject").
void expect_initiator_error(RawClient& client, Answer answer, const RawPdu& response, const char* clause) {
    ASSERT_EQ(answer, Answer::Pdu) << clause;
    EXPECT_EQ(response.opcode(), kLoginResponse) << clause;
    EXPECT_EQ(response.status_class(), 2) << clause << ": status 0x" << std::hex << response.status();
    EXPECT_TRUE(client.closed_within(5000)) << "the connection stays open after a login reject";
}

}  // namespace

TEST_F(BadInput, UnknownOpcodeBeforeLoginIsRejectedOrClosed) {
    RawClient client = connect();
    std::vector<uint8_t> header(48, 0);
    header[0] = 0x1c;  // vendor-specific opcode
    ASSERT_TRUE(client.send(header));
    RawPdu response;
    Answer answer = client.receive(response);
    if (answer == Answer::Pdu) {
        EXPECT_TRUE(response.opcode() == kReject || (response.opcode() == kLoginResponse && response.status_class() != 0))
            << "opcode 0x" << std::hex << int(response.opcode());
    } else {
        EXPECT_EQ(answer, Answer::Closed) << "RFC 7143 s.6.1: only Login Requests before login";
    }
    EXPECT_TRUE(client.closed_within(5000));
}

TEST_F(BadInput, TextRequestBeforeLoginIsRefused) {
    RawClient client = connect();
    ASSERT_TRUE(client.send(text_request(1, 1, 0, text_data({{"SendTargets", "All"}}))));
    RawPdu response;
    Answer answer = client.receive(response);
    if (answer == Answer::Pdu) {
        EXPECT_NE(response.opcode(), 0x24) << "a Text Response before login";
    }
    EXPECT_TRUE(client.closed_within(5000));
}

TEST_F(BadInput, TruncatedHeaderThenEofClosesWithoutAnswer) {
    RawClient client = connect();
    std::vector<uint8_t> partial = login_request(LoginFields{}, {});
    partial.resize(20);
    ASSERT_TRUE(client.send(partial));
    client.shutdown_write();
    RawPdu response;
    EXPECT_NE(client.receive(response), Answer::Pdu);
    EXPECT_TRUE(client.closed_within(5000));
}

TEST_F(BadInput, DataSegmentLengthBeyondTheLimitIsAnsweredAtOnce) {
    RawClient client = connect();
    std::vector<uint8_t> pdu = login_request(LoginFields{}, {});
    set_data_segment_length(pdu, 0xffffff);  // 16 MiB announced, nothing sent
    ASSERT_TRUE(client.send(pdu));
    RawPdu response;
    Answer answer = client.receive(response, 5000);
    ASSERT_NE(answer, Answer::Timeout) << "the daemon waited for 16 MiB it should refuse (RFC 7143 s.13.12)";
    if (answer == Answer::Pdu) {
        EXPECT_TRUE(response.opcode() == kReject || (response.opcode() == kLoginResponse && response.status_class() != 0));
    }
    EXPECT_TRUE(client.closed_within(5000));
}

TEST_F(BadInput, InitiatorNameOver223BytesIsAnInitiatorError) {
    RawClient client = connect();
    std::string name = "iqn.2024-01.org.example:" + std::string(210, 'a');
    RawPdu response;
    Answer answer = first_login(client, text_data({{"InitiatorName", name}, {"SessionType", "Discovery"},
                                                   {"AuthMethod", "None"}}),
                                response);
    expect_initiator_error(client, answer, response, "RFC 7143 s.4.2.7.1: names are at most 223 bytes");
}

TEST_F(BadInput, InvalidInitiatorNameIsAnInitiatorError) {
    RawClient client = connect();
    RawPdu response;
    Answer answer = first_login(
        client, text_data({{"InitiatorName", "not an iscsi name"}, {"SessionType", "Discovery"}, {"AuthMethod", "None"}}),
        response);
    expect_initiator_error(client, answer, response, "RFC 3722: not a valid iSCSI name");
}

TEST_F(BadInput, KeyWithoutEqualsIsRefused) {
    RawClient client = connect();
    RawPdu response;
    std::vector<uint8_t> data = text_data({{"InitiatorName", kInitiator}, {"SessionType", "Discovery"}});
    for (char c : std::string("AuthMethodNone")) data.push_back(uint8_t(c));
    data.push_back(0);
    expect_initiator_error(client, first_login(client, data, response), response,
                           "RFC 7143 s.6.1: key=value");
}

TEST_F(BadInput, DuplicateKeyIsRefused) {
    RawClient client = connect();
    RawPdu response;
    Answer answer = first_login(client,
                                text_data({{"InitiatorName", kInitiator}, {"InitiatorName", kInitiator},
                                           {"SessionType", "Discovery"}, {"AuthMethod", "None"}}),
                                response);
    expect_initiator_error(client, answer, response, "RFC 7143 s.6.1: a key is sent once");
}

TEST_F(BadInput, InvalidUtf8IsRefused) {
    RawClient client = connect();
    RawPdu response;
    Answer answer = first_login(client,
                                text_data({{"InitiatorName", kInitiator}, {"InitiatorAlias", "bad\xc3\x28"},
                                           {"SessionType", "Discovery"}, {"AuthMethod", "None"}}),
                                response);
    expect_initiator_error(client, answer, response, "RFC 7143 s.6.1: text values are UTF-8");
}

TEST_F(BadInput, ValueOutOfRangeIsRefusedOrRejected) {
    RawClient client = connect();
    RawPdu response;
    ASSERT_EQ(first_login(client, text_data({{"InitiatorName", kInitiator}, {"SessionType", "Discovery"},
                                             {"AuthMethod", "None"}}),
                          response),
              Answer::Pdu);
    ASSERT_EQ(response.status(), 0);
    LoginFields next;
    next.csg = 1;
    next.nsg = 3;
    next.exp_stat_sn = response.stat_sn() + 1;
    ASSERT_TRUE(client.send(login_request(next, text_data({{"MaxRecvDataSegmentLength", "100"}}))));
    ASSERT_EQ(client.receive(response), Answer::Pdu);
    ASSERT_EQ(response.opcode(), kLoginResponse);
    // Either the login fails (initiator error) or the key is answered Reject
    // (RFC 7143 s.6.1, s.5.2.1: 512 to 2^24-1).
    bool refused = response.status_class() == 2;
    bool rejected = value_of(parse_text(response.data), "MaxRecvDataSegmentLength") == "Reject";
    EXPECT_TRUE(refused || rejected) << "status 0x" << std::hex << response.status();
}

TEST_F(BadInput, ManyHalfSentHeadersDoNotBlockOthers) {
    std::vector<RawClient> clients(200);
    std::vector<uint8_t> partial = login_request(LoginFields{}, {});
    partial.resize(30);
    for (auto& c : clients) {
        ASSERT_TRUE(c.connect("127.0.0.1", daemon->port()));
        ASSERT_TRUE(c.send(partial));
    }
    // TearDown's good client must still get through while these wait.
}

namespace {

struct BadChap : BadInput {
    void SetUp() override { start(kChapConfig, kChapSecrets); }
    void still_serves() override {
        std::string out = run_command("iscsi-ls 'iscsi://disc%discovery-secret-1@127.0.0.1:" +
                                      std::to_string(daemon->port()) + "'")
                              .output;
        EXPECT_NE(out.find("Target:" + kTargetA), std::string::npos) << out;
    }
};

}  // namespace

TEST_F(BadChap, ChapResponseOfTheWrongLengthIsAnAuthenticationFailure) {
    RawClient client = connect();
    RawPdu response;
    LoginFields fields;
    fields.transit = false;
    fields.nsg = 0;
    ASSERT_TRUE(client.send(login_request(
        fields, text_data({{"InitiatorName", kInitiator}, {"SessionType", "Discovery"}, {"AuthMethod", "CHAP"}}))));
    ASSERT_EQ(client.receive(response), Answer::Pdu);
    ASSERT_EQ(response.status(), 0) << "AuthMethod=CHAP offer refused";
    fields.exp_stat_sn = response.stat_sn() + 1;
    ASSERT_TRUE(client.send(login_request(fields, text_data({{"CHAP_A", "5"}}))));
    ASSERT_EQ(client.receive(response), Answer::Pdu);
    ASSERT_EQ(response.status(), 0);
    ASSERT_FALSE(value_of(parse_text(response.data), "CHAP_C").empty()) << "no challenge";
    fields.exp_stat_sn = response.stat_sn() + 1;
    fields.transit = true;
    fields.nsg = 1;
    ASSERT_TRUE(client.send(login_request(fields, text_data({{"CHAP_N", "disc"}, {"CHAP_R", "0x0011"}}))));
    Answer answer = client.receive(response);
    expect_initiator_error(client, answer, response, "RFC 7143 s.12.1.3: a CHAP_R of the wrong length");
    EXPECT_EQ(response.status(), 0x0201);
}
