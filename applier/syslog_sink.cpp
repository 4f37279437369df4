#include "applier/syslog_sink.hpp"

#include <syslog.h>

#include <string>

namespace airgap::applier {

SyslogStepSink::SyslogStepSink() { openlog("ovirt-applier", LOG_PID, LOG_DAEMON); }

SyslogStepSink::~SyslogStepSink() { closelog(); }

void SyslogStepSink::step(const repo::StepEvent& event) noexcept {
    try {
        // syslog stamps its own time: the message is the rest of the step log's line.
        std::string line = "bundle " + event.bundle_id + " (serial " + std::to_string(event.serial) + ") " +
                           event.command + ": step " + event.step + ": " + event.status;
        if (!event.detail.empty()) line += ": " + event.detail;
        syslog(event.status == "failed" ? LOG_ERR : LOG_INFO, "%s", line.c_str());
    } catch (...) {
        // A log line that cannot be made must not stop the update.
    }
}

}  // namespace airgap::applier
