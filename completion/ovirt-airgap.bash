# bash completion for ovirt-bundler and ovirt-applier.
# The commands and options come from the program's own --help, so that completion never
# offers an option the installed program does not have.

# The commands of program $1: "Subcommands:" lists each as "  NAME   description".
_ovirt_airgap_commands() {
    "$1" --help 2>/dev/null | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}'
}

_ovirt_airgap() {
    local cur prev prog command i
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    prog=${COMP_WORDS[0]}
    command=
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -*) ;;
            *) command=${COMP_WORDS[i]}; break ;;
        esac
    done

    if [[ -z $command ]]; then
        mapfile -t COMPREPLY < <(compgen -W "help $(_ovirt_airgap_commands "$prog")" -- "$cur")
        return
    fi
    if [[ $command == help ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_ovirt_airgap_commands "$prog")" -- "$cur")
        return
    fi

    case $prev in
        --role) mapfile -t COMPREPLY < <(compgen -W "engine host node" -- "$cur"); return ;;
        --type) mapfile -t COMPREPLY < <(compgen -W "ecdsa-p384 ecdsa-p256 rsa3072 rsa4096 ed25519" -- "$cur"); return ;;
        --state-dir | --root | --out | --cache | --debugsolver)
            mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    esac

    if [[ $cur == -* ]]; then
        # Option lines start with "  -m,--manifest" or "  --jobs": their first word, split on ','.
        local options
        options=$("$prog" "$command" --help 2>/dev/null | awk '/^  -/ {print $1}' | tr ',' '\n')
        mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
        return
    fi
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}

complete -o filenames -F _ovirt_airgap ovirt-bundler ovirt-applier
