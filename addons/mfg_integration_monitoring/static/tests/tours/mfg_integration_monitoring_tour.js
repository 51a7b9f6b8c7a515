import { registry } from "@web/core/registry";

const FAILED_INBOUND =
    ".o_mfg_card[data-system-code='TOUR-MES'][data-direction='inbound'] .o_mfg_kpi_failed a";

/**
 * The support workflow: dashboard -> failed count -> failed inbound message ->
 * edit its payload and reprocess -> the message is processed.
 */
registry.category("web_tour.tours").add("mfg_integration_monitoring_support_tour", {
    url: "/odoo/action-mfg_integration_monitoring.action_mfg_integration_dashboard",
    steps: () => [
        {
            content: "The dashboard shows one failed inbound message for the MES",
            trigger: `${FAILED_INBOUND}:contains(/^1$/)`,
        },
        {
            content: "Its dead letter is counted too",
            trigger:
                ".o_mfg_card[data-system-code='TOUR-MES'][data-direction='inbound'] .o_mfg_kpi_dead a:contains(/^1$/)",
        },
        {
            content: "Follow the failed count",
            trigger: FAILED_INBOUND,
            run: "click",
        },
        {
            content: "The list shows only that message",
            trigger: ".o_list_view .o_data_row:only-child .o_data_cell[name='last_error']:contains(NOPE-1)",
        },
        {
            content: "Open the failed message",
            trigger: ".o_list_view .o_data_row .o_data_cell[name='event_type_id']",
            run: "click",
        },
        {
            content: "It is a dead letter",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Dead Letter)",
        },
        {
            content: "Edit its payload",
            trigger: ".o_form_view button[name='action_inbound_edit_payload']",
            run: "click",
        },
        {
            content: "Fix the product code in the payload",
            trigger: ".modal .o_field_widget[name='payload'] .ace_editor",
            run({ anchor }) {
                const editor = window.ace.edit(anchor);
                editor.setValue(editor.getValue().replace('"NOPE-1"', '"WID-1"'));
            },
        },
        {
            content: "Save and reprocess",
            trigger: ".modal button[name='action_apply']",
            run: "click",
        },
        {
            content: "The message is now processed",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Delivered / Processed)",
        },
        {
            content: "The edit is in the chatter, with who did it",
            trigger: ".o-mail-Chatter .o-mail-Message:contains(Payload edited by)",
        },
    ],
});
