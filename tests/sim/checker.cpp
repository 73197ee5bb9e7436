#include "checker.hpp"

#include <algorithm>
#include <utility>

namespace parley::sim {
namespace {

struct ServerRef {
  const ServerConversation* conv = nullptr;
  const ServerMessage* msg = nullptr;
};

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

class Checker {
 public:
  explicit Checker(const History& h) : h_(h) {}

  Verdict run() {
    index_server();
    check_queued();
    check_server_cids();
    check_order();
    for (const auto& d : h_.devices) check_device(d);
    return std::move(v_);
  }

 private:
  const History& h_;
  Verdict v_;
  std::map<std::string, std::vector<ServerRef>> by_cid_;  // server occurrences per cid
  std::map<std::string, std::vector<ServerRef>> by_id_;   // server occurrences per id
  std::map<std::string, const QueuedMessage*> queued_;    // cid -> queued record
  // Server copies of each queued message: its own cid, plus messages whose cid nobody queued
  // but whose text is one of its committed versions (texts are unique per message), which
  // is how a retry under a fresh cid shows up.
  std::map<std::string, std::vector<ServerRef>> copies_;
  std::set<std::string> foreign_;  // server cids matched to a queued message by text

  void lost(std::string s) { ++v_.lost, v_.findings.push_back("lost: " + std::move(s)); }
  void dup(std::string s) { ++v_.duplicated, v_.findings.push_back("duplicated: " + std::move(s)); }
  void reord(std::string s) { ++v_.reordered, v_.findings.push_back("reordered: " + std::move(s)); }
  void unexp(std::string s) {
    ++v_.unexpected, v_.findings.push_back("unexpected: " + std::move(s));
  }

  static std::string where(const ServerRef& r) {
    return r.conv->conv + "#" + std::to_string(r.msg->seq) + " " + r.msg->cid;
  }

  void index_server() {
    std::map<std::string, std::string> by_text;  // committed text version -> queued cid
    for (const auto& q : h_.queued) {
      queued_[q.cid] = &q;
      by_text[q.text] = q.cid;
      for (const auto& t : q.versions) by_text[t] = q.cid;
    }
    for (const auto& c : h_.server) {
      for (const auto& m : c.messages) {
        by_id_[m.id].push_back({&c, &m});
        if (m.cid.empty()) continue;
        by_cid_[m.cid].push_back({&c, &m});
        if (queued_.count(m.cid)) {
          copies_[m.cid].push_back({&c, &m});
        } else if (auto t = by_text.find(m.text); t != by_text.end()) {
          copies_[t->second].push_back({&c, &m});
          foreign_.insert(m.cid);
        }
      }
    }
    for (auto& [cid, refs] : copies_) {
      std::sort(refs.begin(), refs.end(),
                [](const ServerRef& a, const ServerRef& b) { return a.msg->seq < b.msg->seq; });
      for (std::size_t i = 1; i < refs.size(); ++i) {
        dup("server holds queued message " + cid + " " + quote(queued_.at(cid)->text) + " " +
            std::to_string(refs.size()) + " times (" + where(refs[i]) + ")");
      }
    }
    for (const auto& [cid, refs] : by_cid_) {
      if (queued_.count(cid) || foreign_.count(cid)) continue;
      for (std::size_t i = 1; i < refs.size(); ++i) {
        dup("server holds cid " + cid + " " + std::to_string(refs.size()) + " times (" +
            where(refs[i]) + ")");
      }
    }
    for (const auto& [id, refs] : by_id_) {
      for (std::size_t i = 1; i < refs.size(); ++i) {
        dup("server holds id " + id + " " + std::to_string(refs.size()) + " times");
      }
    }
  }

  void check_queued() {
    for (const auto& q : h_.queued) {
      auto it = copies_.find(q.cid);
      if (it == copies_.end()) {
        if (!q.cancelled) {
          lost("queued message " + q.cid + " " + quote(q.text) + " of " + q.device + " in " +
               q.conv + " never reached the server");
        }
        continue;
      }
      const auto& ref = it->second.front();
      if (q.cancelled) {
        unexp("cancelled message " + q.cid + " " + quote(q.text) + " of " + q.device +
              " is on the server at " + where(ref));
        continue;
      }
      if (ref.conv->conv != q.conv) {
        unexp("message " + q.cid + " queued in " + q.conv + " is on the server in " +
              ref.conv->conv);
      }
      auto own = by_cid_.find(q.cid);
      if (own != by_cid_.end() && !own->second.front().msg->deleted &&
          own->second.front().msg->text != q.text) {
        unexp("message " + q.cid + " has server text " + quote(own->second.front().msg->text) +
              ", last committed edit was " + quote(q.text));
      }
    }
  }

  void check_server_cids() {
    for (const auto& [cid, refs] : by_cid_) {
      if (queued_.count(cid) == 0 && foreign_.count(cid) == 0) {
        unexp("server message " + cid + " " + quote(refs.front().msg->text) + " in " +
              refs.front().conv->conv + " was never seen queued by any user");
      }
    }
  }

  // Per device and conversation, server seq order must follow enqueue order.
  void check_order() {
    std::map<std::pair<std::string, std::string>, std::vector<const QueuedMessage*>> groups;
    for (const auto& q : h_.queued) {
      if (q.cancelled || copies_.count(q.cid) == 0) continue;
      groups[{q.device, q.conv}].push_back(&q);
    }
    for (auto& [key, msgs] : groups) {
      std::sort(msgs.begin(), msgs.end(),
                [](const QueuedMessage* a, const QueuedMessage* b) { return a->order < b->order; });
      Seq max_seq = 0;
      const QueuedMessage* max_msg = nullptr;
      for (const auto* q : msgs) {
        const Seq seq = copies_.at(q->cid).front().msg->seq;
        if (seq < max_seq) {
          reord("in " + key.second + " " + key.first + " queued " + quote(max_msg->text) +
                " before " + quote(q->text) + " but the server has them at seq " +
                std::to_string(max_seq) + " and " + std::to_string(seq));
        } else {
          max_seq = seq, max_msg = q;
        }
      }
    }
  }

  void check_device(const DeviceFinal& d) {
    std::map<std::string, const ServerConversation*> own;  // the user's server conversations
    for (const auto& c : h_.server) {
      if (!d.user.empty() && c.user == d.user) own[c.conv] = &c;
    }
    std::set<std::string> convs;
    for (const auto& [conv, c] : own) convs.insert(conv);
    for (const auto& [conv, msgs] : d.store) convs.insert(conv);
    if (d.has_timeline) {
      for (const auto& [conv, msgs] : d.timeline) convs.insert(conv);
    }
    static const std::vector<HeldMessage> kNone;
    std::set<std::string> shown_twice;  // keys the final timeline shows more than once
    for (const auto& conv : convs) {
      auto oc = own.find(conv);
      const ServerConversation* sc = oc == own.end() ? nullptr : oc->second;
      auto st = d.store.find(conv);
      check_held(d.device + " store", conv, sc, st == d.store.end() ? kNone : st->second, nullptr);
      if (d.has_timeline) {
        auto tl = d.timeline.find(conv);
        check_held(d.device + " timeline", conv, sc, tl == d.timeline.end() ? kNone : tl->second,
                   &shown_twice);
      }
    }
    for (const auto& key : d.observed_duplicates) {
      if (!shown_twice.count(key))
        dup(d.device + " timeline showed " + key + " twice during the run");
    }
  }

  // One device view (store or timeline) of one conversation against the server.
  void check_held(const std::string& where, const std::string& conv, const ServerConversation* sc,
                  const std::vector<HeldMessage>& held, std::set<std::string>* twice) {
    std::set<std::string> ids, cids;
    Seq prev_seq = 0;
    for (const auto& m : held) {
      const bool seen = (!m.id.empty() && ids.count(m.id)) || (!m.cid.empty() && cids.count(m.cid));
      if (!m.id.empty()) ids.insert(m.id);
      if (!m.cid.empty()) cids.insert(m.cid);
      const std::string name = (m.id.empty() ? m.cid : m.id) + " " + quote(m.text);
      if (seen) {
        if (twice) twice->insert(m.id), twice->insert(m.cid);
        dup(where + " holds " + name + " in " + conv + " more than once");
        continue;
      }
      if (m.id.empty()) continue;  // a local echo: covered by the queue checks
      auto it = by_id_.find(m.id);
      if (it == by_id_.end()) {
        unexp(where + " holds " + name + " in " + conv + " which the server does not have");
        continue;
      }
      const auto& ref = it->second.front();
      if (ref.conv->conv != conv || ref.msg->seq != m.seq) {
        reord(where + " holds " + name + " at " + conv + "#" + std::to_string(m.seq) +
              ", the server at " + ref.conv->conv + "#" + std::to_string(ref.msg->seq));
      } else if (m.seq <= prev_seq) {
        reord(where + " holds " + name + " (seq " + std::to_string(m.seq) + ") after seq " +
              std::to_string(prev_seq) + " in " + conv);
      }
      prev_seq = std::max(prev_seq, m.seq);
      if (ref.msg->deleted != m.deleted || (!m.deleted && ref.msg->text != m.text)) {
        unexp(where + " holds " + name + (m.deleted ? " (deleted)" : "") + " but the server has " +
              quote(ref.msg->text) + (ref.msg->deleted ? " (deleted)" : ""));
      }
    }
    if (sc == nullptr) return;
    for (const auto& m : sc->messages) {
      if (ids.count(m.id) == 0) {
        lost(where + " lacks server message " + conv + "#" + std::to_string(m.seq) + " " + m.id +
             " " + quote(m.text));
      }
    }
  }
};

}  // namespace

Verdict check(const History& h) {
  return Checker(h).run();
}

}  // namespace parley::sim
