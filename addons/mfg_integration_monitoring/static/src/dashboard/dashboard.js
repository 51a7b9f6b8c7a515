import { Component, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

const REFRESH_MS = 30000;

/** Integration dashboard: one card per system endpoint (and inbound API), fed by one RPC. */
export class MfgIntegrationDashboard extends Component {
    static template = "mfg_integration_monitoring.Dashboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({ data: null, loading: false });
        onWillStart(() => this.load());
        const timer = setInterval(() => this.load(), REFRESH_MS);
        onWillUnmount(() => clearInterval(timer));
    }

    async load() {
        this.state.loading = true;
        try {
            this.state.data = await this.orm.call("mfg.integration.dashboard", "get_dashboard_data", []);
        } finally {
            this.state.loading = false;
        }
    }

    async open(kind, card = null, slaId = null) {
        const action = await this.orm.call("mfg.integration.dashboard", "action_open_messages", [kind], {
            system_id: card ? card.system_id : null,
            endpoint_id: card ? card.endpoint_id : null,
            direction: card ? card.direction : null,
            sla_id: slaId,
        });
        await this.actionService.doAction(action);
    }

    async openSla(breach) {
        await this.open("sla", { system_id: breach.system_id, endpoint_id: null, direction: null }, breach.sla_id);
    }

    cardTitle(card) {
        return card.direction === "inbound" ? _t("Inbound API") : card.endpoint_name;
    }

    formatAge(seconds) {
        if (seconds === null || seconds === undefined) {
            return "–";
        }
        if (seconds < 60) {
            return _t("%s s", seconds);
        }
        if (seconds < 3600) {
            return _t("%s min", Math.floor(seconds / 60));
        }
        if (seconds < 86400) {
            return _t("%s h %s min", Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60));
        }
        return _t("%s d %s h", Math.floor(seconds / 86400), Math.floor((seconds % 86400) / 3600));
    }

    formatMs(ms) {
        if (ms === null || ms === undefined) {
            return "–";
        }
        return ms < 1000 ? _t("%s ms", ms) : _t("%s s", (ms / 1000).toFixed(1));
    }

    formatRate(rate) {
        return rate === null || rate === undefined ? "–" : `${rate} %`;
    }

    circuitLabel(card) {
        return {
            closed: _t("Closed"),
            open: _t("Open"),
            half_open: _t("Half-open"),
        }[card.circuit_state];
    }
}

registry.category("actions").add("mfg_integration_monitoring.dashboard", MfgIntegrationDashboard);
