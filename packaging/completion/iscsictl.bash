# bash completion for iscsictl(8)

_iscsictl() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local nouns="target tpg portal lun backstore acl auth session connection config status"
    local verbs=""
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "$nouns --help --version" -- "$cur"))
        return
    fi
    case ${COMP_WORDS[1]} in
        target) verbs="create delete list show redirect unredirect" ;;
        tpg|portal|lun|acl) verbs="create delete list" ;;
        backstore) verbs="create delete list show" ;;
        auth) verbs="set clear show" ;;
        session) verbs="list show logout terminate" ;;
        connection) verbs="list terminate" ;;
        config) verbs="save reload show" ;;
        status) verbs="" ;;
    esac
    if [[ $COMP_CWORD -eq 2 && -n $verbs ]]; then
        COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
        return
    fi
    local options="--help"
    case "${COMP_WORDS[1]} ${COMP_WORDS[2]}" in
        "target create") options+=" --alias --max-sessions" ;;
        "target redirect") options+=" --port --redirect-tpgt --portal-group --permanent" ;;
        "target unredirect") options+=" --portal-group" ;;
        "tpg create") options+=" --demo-mode --demo-write-protect --disabled" ;;
        "portal create"|"portal delete") options+=" --port --tpgt" ;;
        "backstore create") options+=" --type --path --size --wwn --write-back --attribute" ;;
        "acl create") options+=" --network --map" ;;
        "auth set") options+=" --target --initiator --user --secret-file --mutual-user --mutual-secret-file" ;;
        "auth clear") options+=" --target --initiator" ;;
        "session show"|"session logout"|"session terminate"|"connection terminate") options+=" --target --tpgt" ;;
    esac
    case "${COMP_WORDS[1]} ${COMP_WORDS[2]}" in
        *" list"|*" show"|"status "*) options+=" --json" ;;
    esac
    case ${COMP_WORDS[COMP_CWORD-1]} in
        --type) COMPREPLY=($(compgen -W "fileio block ramdisk user" -- "$cur")); return ;;
        --path|--secret-file|--mutual-secret-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ ${COMP_WORDS[1]} == auth && $COMP_CWORD -eq 3 ]]; then
        COMPREPLY=($(compgen -W "discovery target acl" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
}
complete -F _iscsictl iscsictl
