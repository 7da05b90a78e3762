#include "iscsi/login.h"

#include <algorithm>

#include "iscsi/chap.h"
#include "iscsi/names.h"
#include "iscsi/negotiation.h"
#include "iscsi/text.h"

namespace iscsi {

const char* to_string(SessionType type) {
    return type == SessionType::Discovery ? "Discovery" : "Normal";
}

const char* to_string(LoginStep::Outcome outcome) {
    switch (outcome) {
        case LoginStep::Outcome::Continue: return "continue";
        case LoginStep::Outcome::Close: return "close";
        case LoginStep::Outcome::ReadyForHandoff: return "ready for hand-off";
        case LoginStep::Outcome::DiscoveryFullFeature: return "discovery full feature phase";
    }
    return "unknown outcome";
}

namespace {

std::string status_text(LoginStatus status) {
    static constexpr char digits[] = "0123456789abcdef";
    const auto value = static_cast<uint16_t>(status);
    std::string hex = "0x";
    for (int shift = 12; shift >= 0; shift -= 4) hex.push_back(digits[(value >> shift) & 0xf]);
    return hex + " " + to_string(status);
}

const std::string* find_value(const TextPairs& pairs, std::string_view key) {
    for (const auto& kv : pairs) {
        if (kv.key == key) return &kv.value;
    }
    return nullptr;
}

// "addr:port,tpgt" with IPv6 in brackets (RFC 7143 s.13.8).
std::string target_address(const std::string& address, uint16_t port, uint16_t tpgt) {
    const bool ipv6 = address.find(':') != std::string::npos;
    return (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port) + "," + std::to_string(tpgt);
}

bool is_link_local_ipv6(const std::string& address) {
    if (address.size() < 4 || address.find(':') == std::string::npos) return false;
    std::string prefix = address.substr(0, 4);
    std::transform(prefix.begin(), prefix.end(), prefix.begin(), [](unsigned char c) { return std::tolower(c); });
    // fe80::/10: fe80 .. febf
    return prefix[0] == 'f' && prefix[1] == 'e' && (prefix[2] == '8' || prefix[2] == '9' || prefix[2] == 'a' || prefix[2] == 'b');
}

bool is_wildcard(const std::string& address) { return address == "0.0.0.0" || address == "::" || address.empty(); }

std::optional<LoginStatus> status_for(TargetAccess::Verdict verdict) {
    switch (verdict) {
        case TargetAccess::Verdict::Allowed: return std::nullopt;
        case TargetAccess::Verdict::NotFound: return LoginStatus::NotFound;
        case TargetAccess::Verdict::NotAuthorized: return LoginStatus::AuthorizationFailure;
        case TargetAccess::Verdict::Redirect: return std::nullopt;
        case TargetAccess::Verdict::Removed: return LoginStatus::TargetRemoved;
        case TargetAccess::Verdict::TooManySessions: return LoginStatus::TooManyConnections;
    }
    return LoginStatus::TargetError;
}

std::optional<LoginStatus> status_for(Admission::Verdict verdict) {
    switch (verdict) {
        case Admission::Verdict::NewSession:
        case Admission::Verdict::ReinstateSession:
        case Admission::Verdict::AddConnection:
        case Admission::Verdict::ReinstateConnection: return std::nullopt;
        case Admission::Verdict::SessionDoesNotExist: return LoginStatus::SessionDoesNotExist;
        case Admission::Verdict::TooManyConnections: return LoginStatus::TooManyConnections;
        case Admission::Verdict::InitiatorMismatch: return LoginStatus::AuthorizationFailure;
        case Admission::Verdict::TooManySessions: return LoginStatus::TooManyConnections;
    }
    return LoginStatus::TargetError;
}

// A refusal travelling up from the helpers of on_login().
struct Refusal {
    LoginStatus status;
    std::string reason;
};

}  // namespace

struct LoginConnection::Impl {
    enum class State { Login, AwaitingHandoff, Discovery, Closed };
    enum class Auth { NotNegotiated, None, ChapAwaitAlgorithms, ChapAwaitResponse, Done };

    LoginPolicy& policy;
    ConnectionEndpoints endpoints;
    config::Limits limits;
    LoginOptions options;

    State state = State::Login;
    bool first_header = true;  // no Login Request header seen yet
    bool first = true;         // no complete text sequence processed yet
    Stage stage = Stage::SecurityNegotiation;
    LoginRequestHeader first_request;
    LoginRequestHeader last_request;
    uint32_t stat_sn = 0;
    uint32_t login_pdus = 0;
    size_t login_bytes = 0;
    TextAssembler login_text;

    SessionType session_type = SessionType::Normal;
    LoginIdentity identity;
    std::string initiator_alias;
    TargetAccess access;
    Admission admission;
    Negotiator negotiator{TargetOffer{}};

    Auth auth = Auth::NotNegotiated;
    std::optional<config::ChapCredentials> chap_credentials;
    std::optional<ChapAuthenticator> chap;
    std::string chap_user;

    // Kept for the hand-off: the final Login Response and its StatSN.
    std::vector<uint8_t> final_response;
    uint32_t final_stat_sn = 0;

    // Discovery Full Feature Phase.
    uint32_t exp_cmd_sn = 0;
    TextAssembler text_in;
    uint32_t text_in_itt = kReservedTag;
    std::vector<std::vector<uint8_t>> text_out;  // segments still to send
    size_t text_out_next = 0;
    uint32_t text_out_itt = kReservedTag;
    uint32_t text_ttt = 0;
    uint32_t next_ttt = 1;
    bool text_final = true;

    Impl(LoginPolicy& p, ConnectionEndpoints e, const config::Limits& l, LoginOptions o)
        : policy(p),
          endpoints(std::move(e)),
          limits(l),
          options(o),
          login_text(std::max<size_t>(l.max_login_bytes, kMinTextSequenceCapacity)),
          text_in(std::max<size_t>(l.max_login_bytes, kMinTextSequenceCapacity)) {}

    std::string peer() const {
        std::string where = endpoints.peer_address.find(':') != std::string::npos
                                ? "[" + endpoints.peer_address + "]:" + std::to_string(endpoints.peer_port)
                                : endpoints.peer_address + ":" + std::to_string(endpoints.peer_port);
        if (identity.initiator_name.empty()) return where;
        return identity.initiator_name + " (" + where + ")";
    }

    // ---- Login Responses -------------------------------------------------

    LoginResponseHeader response_header(const LoginRequestHeader& request, LoginStatus status) {
        LoginResponseHeader header;
        header.set_version_max(0);
        header.set_version_active(0);
        header.set_isid(request.isid());
        header.set_tsih(request.tsih());
        header.set_initiator_task_tag(request.initiator_task_tag());
        header.set_stat_sn(stat_sn);
        // Login Requests are immediate: CmdSN is not consumed (s.11.12.7).
        header.set_exp_cmd_sn(request.cmd_sn());
        header.set_max_cmd_sn(request.cmd_sn() + std::max<uint32_t>(options.command_window, 1) - 1);
        header.set_status(status);
        header.set_csg(stage);
        return header;
    }

    LoginStep refuse(const LoginRequestHeader& request, LoginStatus status, const std::string& reason) {
        LoginResponseHeader header = response_header(request, status);
        header.set_transit(false);
        header.set_nsg(Stage::SecurityNegotiation);
        Pdu pdu{header, {}, {}};
        ++stat_sn;
        state = State::Closed;
        LoginStep step;
        step.responses.push_back(pdu.serialize());
        step.outcome = LoginStep::Outcome::Close;
        step.status = status;
        step.log = "login of " + peer() + " refused with " + status_text(status) + ": " + reason;
        return step;
    }

    LoginStep close_silently(std::string reason) {
        state = State::Closed;
        LoginStep step;
        step.outcome = LoginStep::Outcome::Close;
        step.log = peer() + ": " + std::move(reason);
        return step;
    }

    // ---- Login phase ------------------------------------------------------

    LoginStep on_login(const Pdu& pdu) {
        const Bhs& bhs = pdu.bhs;
        if (!is_defined_opcode(bhs.raw_opcode()) || bhs.opcode() != Opcode::LoginRequest) {
            // RFC 7143 s.11.13.5 0x020b: a non-login request during login.
            LoginRequestHeader as_login(bhs);
            LoginRequestHeader echo = first_header ? as_login : first_request;
            echo.set_initiator_task_tag(bhs.initiator_task_tag());
            const std::string what = is_defined_opcode(bhs.raw_opcode()) ? to_string(bhs.opcode()) : "undefined opcode";
            return refuse(echo, LoginStatus::InvalidDuringLogin, std::string(what) + " during the login phase");
        }
        const LoginRequestHeader request(bhs);
        if (++login_pdus > std::max<uint32_t>(limits.max_login_pdus, 4)) {
            return refuse(request, LoginStatus::InitiatorError,
                          "more than " + std::to_string(limits.max_login_pdus) + " Login PDUs");
        }
        if (pdu.data.size() > kLoginMaxRecvDataSegmentLength) {
            return refuse(request, LoginStatus::InitiatorError,
                          "Login Request data segment of " + std::to_string(pdu.data.size()) +
                              " bytes exceeds 8192 (RFC 7143 s.13.12)");
        }
        login_bytes += pdu.data.size();
        if (login_bytes > limits.max_login_bytes) {
            return refuse(request, LoginStatus::OutOfResources,
                          "more than " + std::to_string(limits.max_login_bytes) + " bytes of login text");
        }
        if (auto refusal = check_request_header(request)) return refuse(request, refusal->status, refusal->reason);
        last_request = request;

        if (auto appended = login_text.append(pdu.data); !appended) {
            return refuse(request, LoginStatus::OutOfResources, appended.error().message);
        }
        if (request.continue_bit()) {
            // Text continuation (s.6.1, s.11.12.2): acknowledge with an empty
            // Login Response and wait for the rest.
            LoginResponseHeader header = response_header(request, LoginStatus::Success);
            header.set_transit(false);
            header.set_nsg(Stage::SecurityNegotiation);
            ++stat_sn;
            LoginStep step;
            step.responses.push_back(Pdu{header, {}, {}}.serialize());
            return step;
        }
        auto parsed = parse_text(login_text.take());
        if (!parsed) {
            return refuse(request, LoginStatus::InitiatorError,
                          std::string("malformed login text: ") + parsed.error().message);
        }
        TextPairs response;
        if (first) {
            first = false;
            if (auto step = on_first_request(request, *parsed, response)) return std::move(*step);
        }
        auto outcome = negotiator.process(*parsed, stage);
        if (outcome.failure) return refuse(request, outcome.failure->status, outcome.failure->reason);
        response.insert(response.end(), outcome.answers.begin(), outcome.answers.end());
        if (auto refusal = on_login_keys(outcome.for_login, response)) {
            return refuse(request, refusal->status, refusal->reason);
        }
        return respond(request, std::move(response));
    }

    std::optional<Refusal> check_request_header(const LoginRequestHeader& request) {
        if (first_header) {
            // RFC 7143 s.11.12.4: versions 0x00 only.
            if (request.version_min() > 0) {
                return Refusal{LoginStatus::UnsupportedVersion,
                               "VersionMin " + std::to_string(request.version_min()) + " (this target speaks 0x00)"};
            }
            if (request.version_max() < request.version_min()) {
                return Refusal{LoginStatus::InitiatorError, "VersionMax below VersionMin"};
            }
            if (request.csg() != static_cast<uint8_t>(Stage::SecurityNegotiation) &&
                request.csg() != static_cast<uint8_t>(Stage::LoginOperationalNegotiation)) {
                return Refusal{LoginStatus::InitiatorError, "first Login Request with CSG " + std::to_string(request.csg())};
            }
            stage = static_cast<Stage>(request.csg());
            first_request = request;
            // s.11.13.4: the first Login Response starts the connection's
            // StatSN; we continue from the initiator's ExpStatSN.
            stat_sn = request.exp_stat_sn();
            first_header = false;
        } else {
            if (request.version_max() != first_request.version_max() ||
                request.version_min() != first_request.version_min()) {
                return Refusal{LoginStatus::InitiatorError, "version fields changed during login (s.11.12.4)"};
            }
            if (request.isid() != first_request.isid() || request.tsih() != first_request.tsih() ||
                request.cid() != first_request.cid()) {
                return Refusal{LoginStatus::InitiatorError, "ISID, TSIH or CID changed during login (s.11.12.5)"};
            }
            if (request.csg() != static_cast<uint8_t>(stage)) {
                return Refusal{LoginStatus::InitiatorError, "CSG " + std::to_string(request.csg()) + " while in " +
                                                                to_string(stage) + " (s.11.12.3)"};
            }
        }
        if (request.continue_bit() && request.transit()) {
            return Refusal{LoginStatus::InitiatorError, "T and C both set (RFC 7143 s.11.12.2)"};
        }
        if (request.transit()) {
            const uint8_t nsg = request.nsg();
            if (nsg == static_cast<uint8_t>(Stage::Reserved) || nsg <= request.csg()) {
                return Refusal{LoginStatus::InitiatorError, "transit from " + std::string(to_string(stage)) +
                                                                " to stage " + std::to_string(nsg) + " (s.6.3)"};
            }
        }
        return std::nullopt;
    }

    // Identity, target access and admission, from the first Login Request.
    std::optional<LoginStep> on_first_request(const LoginRequestHeader& request, const TextPairs& pairs,
                                              TextPairs& response) {
        const std::string* initiator_name = find_value(pairs, "InitiatorName");
        if (!initiator_name) {
            return refuse(request, LoginStatus::MissingParameter, "no InitiatorName in the first Login Request (s.13.6)");
        }
        if (auto valid = validate_iscsi_name(*initiator_name); !valid) {
            return refuse(request, LoginStatus::InitiatorError, "InitiatorName: " + valid.error());
        }
        identity.initiator_name = *initiator_name;
        identity.tpgt = endpoints.tpgt;
        identity.isid = request.isid();
        identity.tsih = request.tsih();
        identity.cid = request.cid();
        if (const auto* alias = find_value(pairs, "InitiatorAlias")) initiator_alias = *alias;

        const std::string* type = find_value(pairs, "SessionType");
        if (type && *type != "Normal" && *type != "Discovery") {
            return refuse(request, LoginStatus::SessionTypeNotSupported, "SessionType=" + *type);
        }
        session_type = (type && *type == "Discovery") ? SessionType::Discovery : SessionType::Normal;
        const bool leading = request.tsih() == 0;

        if (session_type == SessionType::Discovery) {
            if (!leading) {
                return refuse(request, LoginStatus::SessionDoesNotExist,
                              "a Discovery session cannot take more connections (TSIH " +
                                  std::to_string(request.tsih()) + ")");
            }
            if (!policy.discovery_allowed(identity.initiator_name, endpoints)) {
                return refuse(request, LoginStatus::SessionTypeNotSupported, "discovery is disabled");
            }
            chap_credentials = policy.discovery_chap(identity.initiator_name);
            negotiator.set_offer(discovery_offer(options.discovery_max_recv_data_segment_length));
            negotiator.set_session(true, true);
        } else {
            const std::string* target_name = find_value(pairs, "TargetName");
            if (!target_name) {
                return refuse(request, LoginStatus::MissingParameter,
                              "no TargetName in the first Login Request of a Normal session (s.13.4)");
            }
            if (auto valid = validate_iscsi_name(*target_name); !valid) {
                return refuse(request, LoginStatus::NotFound, "TargetName: " + valid.error());
            }
            identity.target_name = *target_name;
            access = policy.target_access(identity.target_name, identity.initiator_name, endpoints);
            if (access.verdict == TargetAccess::Verdict::Redirect) return redirect(request);
            if (auto status = status_for(access.verdict)) {
                return refuse(request, *status, access.reason.empty() ? "target access refused" : access.reason);
            }
            admission = policy.check_admission(identity);
            if (auto status = status_for(admission.verdict)) {
                return refuse(request, *status, admission.reason.empty() ? "admission refused" : admission.reason);
            }
            chap_credentials = access.chap;
            negotiator.set_offer(target_offer_from(access.parameters));
            negotiator.set_session(false, leading);
            // s.13.9: the target declares its portal group tag in the first
            // Login Response; the alias may go with it (s.13.3).
            response.push_back({"TargetPortalGroupTag", std::to_string(endpoints.tpgt)});
            if (!access.target_alias.empty()) response.push_back({"TargetAlias", access.target_alias});
        }
        // s.6.3: an initiator that starts in the operational stage skips
        // authentication, which the target may not allow.
        if (chap_credentials && stage != Stage::SecurityNegotiation) {
            return refuse(request, LoginStatus::AuthenticationFailure,
                          "CHAP is required but the login skipped the security stage");
        }
        return std::nullopt;
    }

    LoginStep redirect(const LoginRequestHeader& request) {
        if (!access.redirect) {
            return refuse(request, LoginStatus::TargetError, "redirect verdict without a redirect address");
        }
        const auto& to = *access.redirect;
        const LoginStatus status =
            to.permanent ? LoginStatus::TargetMovedPermanently : LoginStatus::TargetMovedTemporarily;
        LoginResponseHeader header = response_header(request, status);
        header.set_transit(false);
        Pdu pdu{header, {}, {}};
        append_pair(pdu.data, "TargetAddress", target_address(to.address, to.port, to.tpgt));
        ++stat_sn;
        state = State::Closed;
        LoginStep step;
        step.responses.push_back(pdu.serialize());
        step.outcome = LoginStep::Outcome::Close;
        step.status = status;
        step.log = "login of " + peer() + " to " + identity.target_name + " redirected to " +
                   target_address(to.address, to.port, to.tpgt) + " (" + status_text(status) + ")";
        return step;
    }

    // AuthMethod and CHAP (the keys the negotiator hands back).
    std::optional<Refusal> on_login_keys(const TextPairs& keys, TextPairs& response) {
        const std::string* auth_method = find_value(keys, "AuthMethod");
        const std::string* chap_a = find_value(keys, "CHAP_A");
        const std::string* chap_n = find_value(keys, "CHAP_N");
        const std::string* chap_r = find_value(keys, "CHAP_R");
        const std::string* chap_i = find_value(keys, "CHAP_I");
        const std::string* chap_c = find_value(keys, "CHAP_C");
        if (const auto* alias = find_value(keys, "InitiatorAlias")) initiator_alias = *alias;

        if (auth_method) {
            const auto offered = split_list(*auth_method);
            const std::string wanted = chap_credentials ? "CHAP" : "None";
            const bool ok = offered && std::find(offered->begin(), offered->end(), wanted) != offered->end();
            if (!ok) {
                return Refusal{LoginStatus::AuthenticationFailure,
                               "AuthMethod=" + *auth_method + " does not offer " + wanted + ", which this " +
                                   (session_type == SessionType::Discovery ? "discovery portal" : "target") +
                                   " requires"};
            }
            response.push_back({"AuthMethod", wanted});
            if (chap_credentials) {
                const config::Security security = policy.security();
                chap.emplace(security.chap_algorithms, security.chap_challenge_length);
                if (options.fixed_chap_challenge) {
                    chap->set_fixed_challenge_for_testing(options.fixed_chap_challenge->first,
                                                          options.fixed_chap_challenge->second);
                }
                auth = Auth::ChapAwaitAlgorithms;
            } else {
                auth = Auth::None;
            }
        }
        if (chap_a) {
            if (auth != Auth::ChapAwaitAlgorithms) {
                return Refusal{LoginStatus::InitiatorError, "CHAP_A without AuthMethod=CHAP (s.12.1.3)"};
            }
            auto answer = chap->on_algorithms(*chap_a);
            if (!answer) return Refusal{answer.error().status, answer.error().reason};
            response.insert(response.end(), answer->begin(), answer->end());
            auth = Auth::ChapAwaitResponse;
        }
        if (chap_n || chap_r || chap_i || chap_c) {
            if (auth != Auth::ChapAwaitResponse) {
                return Refusal{LoginStatus::AuthenticationFailure, "CHAP_N/CHAP_R/CHAP_I/CHAP_C out of sequence"};
            }
            if (!chap_n || !chap_r) {
                return Refusal{LoginStatus::AuthenticationFailure, "CHAP response without CHAP_N and CHAP_R"};
            }
            if (*chap_n != chap_credentials->user) {
                return Refusal{LoginStatus::AuthenticationFailure, "CHAP_N=" + *chap_n + " is not the configured user"};
            }
            const auto secret = policy.chap_secret(*chap_n);
            if (!secret) {
                return Refusal{LoginStatus::AuthenticationFailure, "no CHAP secret for user " + *chap_n};
            }
            if (auto verified = chap->verify(*chap_r, *secret); !verified) {
                return Refusal{verified.error().status,
                               "CHAP user " + *chap_n + " (" + to_string(*chap->algorithm()) + "): " +
                                   verified.error().reason};
            }
            if (chap_i || chap_c) {
                if (!chap_i || !chap_c) {
                    return Refusal{LoginStatus::AuthenticationFailure, "mutual CHAP needs both CHAP_I and CHAP_C"};
                }
                if (chap_credentials->mutual_user.empty()) {
                    return Refusal{LoginStatus::AuthenticationFailure,
                                   "the initiator asks for mutual CHAP but no target user is configured"};
                }
                const auto mutual_secret = policy.chap_secret(chap_credentials->mutual_user);
                if (!mutual_secret) {
                    return Refusal{LoginStatus::AuthenticationFailure,
                                   "no CHAP secret for target user " + chap_credentials->mutual_user};
                }
                // s.12.1.3: the secrets of the two directions must differ.
                if (*mutual_secret == *secret) {
                    return Refusal{LoginStatus::AuthenticationFailure,
                                   "mutual CHAP secret equals the initiator's secret (RFC 7143 s.12.1.3)"};
                }
                auto answer = chap->answer_challenge(*chap_i, *chap_c, chap_credentials->mutual_user, *mutual_secret);
                if (!answer) return Refusal{answer.error().status, answer.error().reason};
                response.insert(response.end(), answer->begin(), answer->end());
            }
            chap_user = *chap_n;
            auth = Auth::Done;
        }
        return std::nullopt;
    }

    bool authenticated() const {
        if (chap_credentials) return auth == Auth::Done;
        return auth == Auth::None || auth == Auth::NotNegotiated;
    }

    LoginStep respond(const LoginRequestHeader& request, TextPairs response) {
        bool transit = false;
        Stage next = Stage::SecurityNegotiation;
        if (stage == Stage::SecurityNegotiation) {
            if (request.transit()) {
                if (chap_credentials && auth == Auth::NotNegotiated) {
                    return refuse(request, LoginStatus::AuthenticationFailure,
                                  "leaving the security stage without AuthMethod; CHAP is required");
                }
                if (authenticated()) {
                    transit = true;
                    next = static_cast<Stage>(request.nsg());
                    // The target may choose a lower next stage (s.6.3): it
                    // still owes declarations or offers.
                    if (next == Stage::FullFeaturePhase && negotiator.owes_declarations()) {
                        next = Stage::LoginOperationalNegotiation;
                    }
                }
            }
        } else {
            // Operational stage: declare what we must; offer our values once
            // the initiator wants to leave (it may still be proposing before).
            auto declarations = negotiator.target_declarations(request.transit());
            response.insert(response.end(), declarations.begin(), declarations.end());
            if (request.transit() && !negotiator.awaiting_answers() && !negotiator.owes_declarations()) {
                transit = true;
                next = Stage::FullFeaturePhase;
            }
        }
        if (transit && next == Stage::FullFeaturePhase) return finish(request, std::move(response));

        LoginResponseHeader header = response_header(request, LoginStatus::Success);
        header.set_transit(transit);
        header.set_nsg(transit ? next : Stage::SecurityNegotiation);
        Pdu pdu{header, {}, encode_text(response)};
        ++stat_sn;
        if (transit) stage = next;
        LoginStep step;
        step.responses.push_back(pdu.serialize());
        return step;
    }

    LoginStep finish(const LoginRequestHeader& request, TextPairs response) {
        if (auto failure = negotiator.finish()) return refuse(request, failure->status, failure->reason);
        uint16_t tsih = request.tsih();
        if (session_type == SessionType::Normal) {
            admission = policy.admit(identity, endpoints);
            if (auto status = status_for(admission.verdict)) {
                return refuse(request, *status, admission.reason.empty() ? "admission refused" : admission.reason);
            }
            if (admission.verdict == Admission::Verdict::NewSession ||
                admission.verdict == Admission::Verdict::ReinstateSession) {
                if (admission.tsih == 0) {
                    policy.abandon(identity, admission);
                    return refuse(request, LoginStatus::TargetError, "the registry assigned TSIH 0");
                }
                tsih = admission.tsih;
            }
        } else {
            // A Discovery session is a session too: the target assigns it a
            // TSIH unique within the portal group (s.11.13.3, s.4.4), so the
            // registry records it and can show it, and frees the TSIH when
            // the connection closes.
            admission = policy.admit(identity, endpoints);
            if (auto status = status_for(admission.verdict)) {
                return refuse(request, *status, admission.reason.empty() ? "admission refused" : admission.reason);
            }
            if (admission.tsih == 0) {
                policy.abandon(identity, admission);
                return refuse(request, LoginStatus::TargetError, "the registry assigned TSIH 0");
            }
            tsih = admission.tsih;
        }
        identity.tsih = tsih;
        LoginResponseHeader header = response_header(request, LoginStatus::Success);
        header.set_transit(true);
        header.set_nsg(Stage::FullFeaturePhase);
        header.set_tsih(tsih);
        Pdu pdu{header, {}, encode_text(response)};
        final_stat_sn = stat_sn;
        ++stat_sn;
        stage = Stage::FullFeaturePhase;
        LoginStep step;
        step.responses.push_back(pdu.serialize());
        const std::string auth_text = chap_user.empty() ? "no authentication" : "CHAP user " + chap_user;
        if (session_type == SessionType::Discovery) {
            state = State::Discovery;
            exp_cmd_sn = request.cmd_sn();
            step.outcome = LoginStep::Outcome::DiscoveryFullFeature;
            step.log = "discovery session of " + peer() + " logged in (" + auth_text + ")";
        } else {
            state = State::AwaitingHandoff;
            final_response = step.responses.back();
            step.outcome = LoginStep::Outcome::ReadyForHandoff;
            step.log = "login of " + peer() + " to " + identity.target_name + " complete (TSIH " +
                       std::to_string(tsih) + ", CID " + std::to_string(identity.cid) + ", " + auth_text + ")";
        }
        return step;
    }

    // ---- Discovery Full Feature Phase ---------------------------------------

    // StatSN, ExpCmdSN, MaxCmdSN for the next response of the Discovery
    // session; StatSN advances with every response (s.11.19.2, s.11.17.3).
    struct Sequence {
        uint32_t stat_sn, exp_cmd_sn, max_cmd_sn;
    };
    Sequence next_sequence() {
        // A window of one command: discovery is one question at a time.
        return Sequence{stat_sn++, exp_cmd_sn, exp_cmd_sn};
    }

    void advance_cmd_sn(const Bhs& bhs, uint32_t cmd_sn) {
        if (!bhs.immediate() && cmd_sn == exp_cmd_sn) ++exp_cmd_sn;
    }

    LoginStep reject(const Bhs& bhs, RejectReason reason, const std::string& why) {
        const Sequence seq = next_sequence();
        LoginStep step;
        step.responses.push_back(make_reject(bhs, reason, seq.stat_sn, seq.exp_cmd_sn, seq.max_cmd_sn).serialize());
        step.log = peer() + ": Reject (" + to_string(reason) + "): " + why;
        return step;
    }

    LoginStep on_discovery(const Pdu& pdu) {
        const Bhs& bhs = pdu.bhs;
        if (!is_defined_opcode(bhs.raw_opcode())) {
            return reject(bhs, RejectReason::CommandNotSupported, "undefined opcode");
        }
        switch (bhs.opcode()) {
            case Opcode::TextRequest: return on_text(pdu);
            case Opcode::NopOut: return on_nop_out(pdu);
            case Opcode::LogoutRequest: return on_logout(pdu);
            default:
                return reject(bhs, RejectReason::ProtocolError,
                              std::string(to_string(bhs.opcode())) + " in a Discovery session");
        }
    }

    LoginStep on_nop_out(const Pdu& pdu) {
        const NopOutHeader request(pdu.bhs);
        advance_cmd_sn(pdu.bhs, request.cmd_sn());
        // ITT 0xffffffff: the answer to a ping of ours (we send none), or a
        // one-way ping; neither is answered (s.11.18.3).
        if (request.initiator_task_tag() == kReservedTag) return {};
        NopInHeader header;
        header.set_lun(request.lun());
        header.set_initiator_task_tag(request.initiator_task_tag());
        header.set_target_transfer_tag(kReservedTag);
        const Sequence seq = next_sequence();
        header.set_stat_sn(seq.stat_sn);
        header.set_exp_cmd_sn(seq.exp_cmd_sn);
        header.set_max_cmd_sn(seq.max_cmd_sn);
        Pdu response{header, {}, pdu.data};
        const size_t limit = negotiator.values().initiator_max_recv_data_segment_length;
        if (response.data.size() > limit) response.data.resize(limit);
        LoginStep step;
        step.responses.push_back(response.serialize());
        return step;
    }

    LoginStep on_logout(const Pdu& pdu) {
        const LogoutRequestHeader request(pdu.bhs);
        advance_cmd_sn(pdu.bhs, request.cmd_sn());
        LogoutResponseHeader header;
        header.set_initiator_task_tag(request.initiator_task_tag());
        // ErrorRecoveryLevel 0: no connection recovery (s.11.15.1).
        header.set_response(request.raw_reason() == static_cast<uint8_t>(LogoutReason::RemoveConnectionForRecovery)
                                ? LogoutResponseCode::ConnectionRecoveryNotSupported
                                : LogoutResponseCode::Success);
        const Sequence seq = next_sequence();
        header.set_stat_sn(seq.stat_sn);
        header.set_exp_cmd_sn(seq.exp_cmd_sn);
        header.set_max_cmd_sn(seq.max_cmd_sn);
        state = State::Closed;
        LoginStep step;
        step.responses.push_back(Pdu{header, {}, {}}.serialize());
        step.outcome = LoginStep::Outcome::Close;
        step.log = "discovery session of " + peer() + " logged out";
        return step;
    }

    LoginStep text_response(const TextRequestHeader& request, std::vector<uint8_t> data, bool more, bool final_bit) {
        TextResponseHeader header;
        header.set_initiator_task_tag(request.initiator_task_tag());
        header.set_lun(request.lun());
        header.set_continue_bit(more);
        header.set_final_bit(!more && final_bit);
        header.set_target_transfer_tag(more ? text_ttt : kReservedTag);
        const Sequence seq = next_sequence();
        header.set_stat_sn(seq.stat_sn);
        header.set_exp_cmd_sn(seq.exp_cmd_sn);
        header.set_max_cmd_sn(seq.max_cmd_sn);
        LoginStep step;
        step.responses.push_back(Pdu{header, {}, std::move(data)}.serialize());
        return step;
    }

    LoginStep on_text(const Pdu& pdu) {
        const TextRequestHeader request(pdu.bhs);
        advance_cmd_sn(pdu.bhs, request.cmd_sn());
        const uint32_t itt = request.initiator_task_tag();
        if (request.target_transfer_tag() != kReservedTag) {
            // The initiator asks for the next part of our long answer (s.11.10.4).
            if (text_out_next >= text_out.size() || itt != text_out_itt || request.target_transfer_tag() != text_ttt) {
                return reject(pdu.bhs, RejectReason::InvalidPduField, "Text Request with an unknown Target Transfer Tag");
            }
            const bool more = text_out_next + 1 < text_out.size();
            auto step = text_response(request, std::move(text_out[text_out_next++]), more, text_final);
            if (!more) text_out.clear();
            return step;
        }
        // A new request (TTT 0xffffffff) ends any earlier exchange (s.11.10.4).
        text_out.clear();
        text_out_next = 0;
        if (itt != text_in_itt) {
            text_in.take();
            text_in_itt = itt;
        }
        if (auto appended = text_in.append(pdu.data); !appended) {
            text_in.take();
            return reject(pdu.bhs, RejectReason::ProtocolError, appended.error().message);
        }
        if (request.continue_bit()) {
            // More of the initiator's text follows: acknowledge, empty.
            text_ttt = next_ttt++;
            if (next_ttt == kReservedTag) next_ttt = 1;
            TextResponseHeader header;
            header.set_initiator_task_tag(itt);
            header.set_target_transfer_tag(kReservedTag);
            const Sequence seq = next_sequence();
            header.set_stat_sn(seq.stat_sn);
            header.set_exp_cmd_sn(seq.exp_cmd_sn);
            header.set_max_cmd_sn(seq.max_cmd_sn);
            LoginStep step;
            step.responses.push_back(Pdu{header, {}, {}}.serialize());
            return step;
        }
        auto parsed = parse_text(text_in.take());
        text_in_itt = kReservedTag;
        if (!parsed) return reject(pdu.bhs, RejectReason::ProtocolError, "malformed text: " + parsed.error().message);
        std::vector<uint8_t> answer;
        for (const auto& kv : *parsed) {
            if (kv.key == "SendTargets") {
                send_targets(kv.value, answer);
            } else if (find_key(kv.key)) {
                // Nothing else is negotiable in a Discovery session's FFP.
                append_pair(answer, kv.key, "Reject");
            } else {
                append_pair(answer, kv.key, "NotUnderstood");
            }
        }
        const size_t segment = std::max<size_t>(negotiator.values().initiator_max_recv_data_segment_length, 512);
        text_out = split_segments(answer, segment);
        text_out_itt = itt;
        text_final = request.final_bit();
        text_out_next = 0;
        const bool more = text_out.size() > 1;
        if (more) {
            text_ttt = next_ttt++;
            if (next_ttt == kReservedTag) next_ttt = 1;
        }
        auto step = text_response(request, std::move(text_out[text_out_next++]), more, text_final);
        if (!more) text_out.clear();
        return step;
    }

    // RFC 7143 s.7.3.1 / Appendix C: TargetName, then one TargetAddress per
    // portal; "All" lists every target the initiator may use, a name lists
    // that target, and empty names the session's target (none in Discovery).
    void send_targets(const std::string& value, std::vector<uint8_t>& out) {
        if (value.empty()) return;
        const std::string wanted = value == "All" ? std::string() : value;
        for (const auto& entry : policy.send_targets(identity.initiator_name, endpoints, wanted)) {
            if (!wanted.empty() && entry.target_name != wanted) continue;
            append_pair(out, "TargetName", entry.target_name);
            std::vector<std::string> listed;
            for (const auto& portal : entry.portals) {
                // A wildcard portal is reached at the address this connection came in on.
                const std::string address = is_wildcard(portal.address) ? endpoints.local_address : portal.address;
                if (address.empty()) continue;
                if (!options.include_link_local && is_link_local_ipv6(address)) continue;
                std::string text = target_address(address, portal.port, portal.tpgt);
                if (std::find(listed.begin(), listed.end(), text) != listed.end()) continue;
                append_pair(out, "TargetAddress", text);
                listed.push_back(std::move(text));
            }
        }
    }
};

LoginConnection::LoginConnection(LoginPolicy& policy, ConnectionEndpoints endpoints, const config::Limits& limits,
                                 LoginOptions options)
    : impl_(std::make_unique<Impl>(policy, std::move(endpoints), limits, std::move(options))) {}
LoginConnection::~LoginConnection() = default;

tl::expected<uint32_t, LoginStep> LoginConnection::check_header(const Bhs& bhs) {
    Impl& s = *impl_;
    switch (s.state) {
        case Impl::State::Closed:
            return tl::make_unexpected(s.close_silently("PDU after the connection was given up"));
        case Impl::State::AwaitingHandoff:
            // Nothing may be read now: the bytes belong to the kernel.
            return tl::make_unexpected(s.close_silently("PDU read while the hand-off is pending"));
        case Impl::State::Login: {
            // During login the default MaxRecvDataSegmentLength applies (s.13.12).
            if (bhs.data_segment_length() > kLoginMaxRecvDataSegmentLength) {
                LoginRequestHeader echo(bhs);
                return tl::make_unexpected(s.refuse(
                    echo, LoginStatus::InitiatorError,
                    "data segment of " + std::to_string(bhs.data_segment_length()) +
                        " bytes exceeds MaxRecvDataSegmentLength 8192 during login (s.13.12)"));
            }
            return remaining_length(bhs);
        }
        case Impl::State::Discovery: {
            HeaderLimits limits{s.negotiator.values().target_max_recv_data_segment_length};
            auto checked = iscsi::check_header(bhs, limits);
            if (!checked && checked.error().action == PduError::Action::Close) {
                LoginStep step = s.reject(bhs, checked.error().reject_reason, checked.error().message);
                step.outcome = LoginStep::Outcome::Close;
                s.state = Impl::State::Closed;
                return tl::make_unexpected(std::move(step));
            }
            // Rejectable headers are read whole and rejected by on_pdu().
            return remaining_length(bhs);
        }
    }
    return remaining_length(bhs);
}

LoginStep LoginConnection::on_pdu(const Pdu& pdu) {
    Impl& s = *impl_;
    switch (s.state) {
        case Impl::State::Login: return s.on_login(pdu);
        case Impl::State::Discovery: return s.on_discovery(pdu);
        case Impl::State::AwaitingHandoff: return s.close_silently("PDU received while the hand-off is pending");
        case Impl::State::Closed: return s.close_silently("PDU after the connection was given up");
    }
    return s.close_silently("unknown state");
}

HandoffInfo LoginConnection::handoff_info() const {
    const Impl& s = *impl_;
    HandoffInfo info;
    info.identity = s.identity;
    info.admission = s.admission;
    info.session_type = s.session_type;
    info.initiator_alias = s.initiator_alias;
    info.target_alias = s.access.target_alias;
    info.negotiated = s.negotiator.values().to_kmod();
    info.cmd_sn = s.last_request.cmd_sn();
    info.stat_sn = s.final_stat_sn + 1;
    info.exp_stat_sn = s.last_request.exp_stat_sn();
    info.chap_user = s.chap_user;
    return info;
}

LoginStep LoginConnection::handoff_failed(std::string reason) {
    Impl& s = *impl_;
    if (s.state != Impl::State::AwaitingHandoff) {
        return s.close_silently("hand-off failure reported outside a pending hand-off: " + reason);
    }
    s.policy.abandon(s.identity, s.admission);
    // The final response was never sent: its StatSN is reused.
    s.stat_sn = s.final_stat_sn;
    LoginRequestHeader request = s.last_request;
    request.set_tsih(s.identity.tsih);
    s.stage = static_cast<Stage>(request.csg());
    auto step = s.refuse(request, LoginStatus::ServiceUnavailable, "hand-off to the kernel failed: " + reason);
    return step;
}

LoginStep LoginConnection::on_timeout() {
    Impl& s = *impl_;
    if (s.state == Impl::State::Login) return s.close_silently("login timed out");
    return s.close_silently("timed out");
}

std::string LoginConnection::peer_description() const { return impl_->peer(); }

}  // namespace iscsi
