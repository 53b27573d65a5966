"""Which scenarios prove which point of issue 12 (item 1), checked by ``test_conformance``: every
point has scenarios, and every id named here exists."""

from __future__ import annotations

POINTS: dict[str, list[str]] = {
    "namespaces and scope": [
        "namespace_must_exist", "same_name_in_two_namespaces", "cluster_scoped_objects",
        "namespace_objects", "terminating_namespace", "watch_is_namespaced",
        "informer_all_namespaces", "paging_across_namespaces",
        "cluster_scoped_collection_and_watch", "name_rules_per_resource"],
    "resourceVersion monotonic per object and for lists": [
        "update_keeps_identity_and_bumps_rv", "noop_update_keeps_rv", "noop_writes_change_nothing",
        "list_rv_not_older_than_items", "list_rv_moves_with_any_write",
        "watch_from_resource_version"],
    "optimistic concurrency (Conflict on a stale RV)": [
        "update_with_stale_rv_conflicts", "update_without_rv_is_unconditional",
        "merge_patch_with_stale_rv_conflicts", "status_patch_and_conflict",
        "scale_with_stale_rv_conflicts"],
    "generateName": ["generate_name", "dry_run_create"],
    "uid / creationTimestamp / generation": [
        "create_fills_metadata", "update_cannot_change_identity", "patch_cannot_change_identity", "generation_tracks_spec_only",
        "custom_resource_generation"],
    "label and field selectors (incl. an unsupported field label)": [
        "label_selector_equality", "label_selector_set_based", "label_selector_malformed",
        "field_selector_name_and_namespace", "field_selector_resource_specific",
        "field_selector_unsupported_label", "field_selector_event_labels"],
    "paging with continue tokens and remainingItemCount": [
        "paging_with_continue", "paging_exact_fit_and_unlimited",
        "paging_with_selector_has_no_count", "paging_is_a_snapshot", "list_all_follows_tokens",
        "paging_bad_continue_token", "list_at_exact_resource_version",
        "list_from_cache_ignores_limit"],
    "watch from a resourceVersion": [
        "watch_from_resource_version", "watch_without_rv_starts_with_state",
        "watch_from_zero_starts_with_state", "watch_from_latest_sees_only_new",
        "watch_deleted_carries_last_state", "watch_ends_at_timeout", "watch_replays_long_history",
        "watch_recreated_object"],
    "watch with selectors (leaving the selector is DELETED)": [
        "watch_label_selector_transitions", "watch_field_selector",
        "informer_label_selector_sees_objects_leave"],
    "bookmarks": ["watch_bookmarks_allowed"],
    "watch from a too-old resourceVersion": ["watch_too_old_resource_version"],
    "informers and listers": [
        "informer_lists_then_watches", "lister_selectors_and_not_found",
        "informer_label_selector_sees_objects_leave", "informer_all_namespaces",
        "informer_on_custom_resource", "async_informer", "informer_sees_finalized_deletion"],
    "delete with finalizers": [
        "delete_with_finalizer_keeps_object", "removing_last_finalizer_deletes",
        "no_new_finalizers_while_deleting", "delete_collection_by_label",
        "custom_resource_finalizers"],
    "propagation policies": [
        "propagation_orphan_and_foreground", "custom_resource_finalizers", "delete_options_validated"],
    "preconditions (uid, RV)": ["delete_preconditions", "uid_precondition_across_recreation"],
    "dryRun on create / update / patch / delete": [
        "dry_run_create", "dry_run_create_still_validates", "dry_run_update", "dry_run_patch",
        "dry_run_delete", "dry_run_apply", "dry_run_writes_no_events", "dry_run_subresources"],
    "status and scale subresources kept apart": [
        "status_update_ignores_spec", "main_update_ignores_status", "status_patch_and_conflict",
        "status_of_missing_is_not_found", "deployment_scale", "custom_resource_status_kept_apart",
        "custom_resource_scale", "apply_status_kept_apart",
        "custom_resource_status_ignores_metadata"],
    "JSON patch": [
        "json_patch_operations", "json_patch_escaped_pointer", "json_patch_failures_are_invalid",
        "json_patch_list_indices"],
    "merge patch": ["merge_patch_semantics", "merge_patch_with_stale_rv_conflicts"],
    "strategic merge patch (containers by name, $patch delete, retainKeys, refused on a CR)": [
        "strategic_merge_containers_by_name", "strategic_merge_patch_delete_directive",
        "strategic_merge_retain_keys", "strategic_merge_maps_and_merge_lists",
        "strategic_merge_refused_on_custom_resource",
        "strategic_merge_delete_from_primitive_list",
        "strategic_merge_nested_lists_and_replace"],
    "server-side apply (create, scalar conflict, force, list-map keys, two managers, re-apply)": [
        "apply_creates", "apply_same_config_is_noop", "apply_conflict_on_scalar",
        "apply_force_takes_ownership", "apply_list_map_containers",
        "apply_custom_resource_list_map", "apply_two_managers_disjoint",
        "apply_shared_value_no_conflict", "reapply_drops_owned_field",
        "apply_conflicts_with_update_manager", "update_records_field_manager",
        "update_with_empty_managed_fields_resets", "apply_status_kept_apart",
        "scale_does_not_take_apply_ownership", "noop_writes_change_nothing",
        "apply_status_on_custom_resource"],
    "delete-collection": [
        "delete_collection_by_label", "delete_collection_all", "delete_collection_not_allowed"],
    "AlreadyExists / NotFound / Invalid (bad name) / MethodNotAllowed": [
        "already_exists", "update_missing_is_not_found", "patch_missing_is_not_found",
        "invalid_name", "missing_name_is_invalid", "invalid_metadata",
        "delete_collection_not_allowed", "create_with_resource_version_is_refused"],
    "async clientset": [
        "async_crud", "async_errors", "async_watch", "async_shares_the_store",
        "async_dynamic_and_discovery", "async_informer", "async_apply_and_collections"],
    "dynamic client": [
        "dynamic_crud", "dynamic_by_kind_and_cluster_scope", "dynamic_custom_resource",
        "dynamic_watch"],
    "discovery": [
        "discovery_core_resources", "discovery_groups_and_subresources",
        "discovery_custom_resource", "discovery_unknown_group_version", "server_version"],
    "custom resources of a --crd package": [
        "custom_resource_generation", "custom_resource_status_kept_apart", "custom_resource_scale",
        "strategic_merge_refused_on_custom_resource", "apply_custom_resource_list_map",
        "apply_set_list_and_scalars_on_custom_resource", "dynamic_custom_resource",
        "informer_on_custom_resource", "discovery_custom_resource",
        "watch_too_old_resource_version", "custom_resource_finalizers",
        "field_selector_unsupported_label", "custom_resource_schema_pruning"],
}
