#pragma once
// Every step of `engine` and `host` also goes to syslog, ident ovirt-applier, so that the
// machine's own log (journald, /var/log/messages) has the update beside everything else.
#include "repo/apply/step_log.hpp"

namespace airgap::applier {

class SyslogStepSink : public repo::StepSink {
public:
    SyslogStepSink();
    ~SyslogStepSink() override;
    SyslogStepSink(const SyslogStepSink&) = delete;
    SyslogStepSink& operator=(const SyslogStepSink&) = delete;
    void step(const repo::StepEvent& event) noexcept override;
};

}  // namespace airgap::applier
