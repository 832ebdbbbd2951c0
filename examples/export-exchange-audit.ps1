<#
.SYNOPSIS
    Export the Exchange Online and Purview audit settings the assessor reads, for `assessor collect --import`.

.DESCRIPTION
    Read-only: runs only Get- cmdlets. Writes eight UTF-8 JSON files (arrays of objects, enum values
    as names, multi-valued properties as arrays) to -OutputDirectory:

        AdminAuditLogConfig.json             Get-AdminAuditLogConfig            UnifiedAuditLogIngestionEnabled
        OrganizationConfig.json              Get-OrganizationConfig             AuditDisabled
        MailboxAuditBypassAssociation.json   Get-MailboxAuditBypassAssociation  Identity, Name, AuditBypassEnabled
        Mailbox.json                         Get-Mailbox (UserMailbox only)     UserPrincipalName, ExternalDirectoryObjectId,
                                                                                RecipientTypeDetails,
                                                                                AuditEnabled, DefaultAuditSet,
                                                                                AuditOwner, AuditDelegate, AuditAdmin
        UnifiedAuditLogRetentionPolicy.json  Get-UnifiedAuditLogRetentionPolicy Name, Priority, RetentionDuration,
                                             (Security & Compliance)            RecordTypes, Operations, UserIds,
                                                                                Enabled, Mode, Description

    and, for the mail-client check (EVT-05: which app-only mail permissions are scoped):

        ApplicationAccessPolicy.json         Get-ApplicationAccessPolicy        AppId, AccessRight, ScopeName, ScopeIdentity
        ManagementRoleAssignment.json        Get-ManagementRoleAssignment       Role, RoleAssignee, RoleAssigneeType,
                                             -RoleAssigneeType ServicePrincipal RecipientWriteScope, CustomResourceScope
        ServicePrincipal.json                Get-ServicePrincipal               Identity, DisplayName, AppId, ObjectId

    Roles: Exchange Online - Global Reader (or View-Only Organization Management) is enough for the
    first four. Purview - Get-UnifiedAuditLogRetentionPolicy needs the Organization Configuration
    role, which can also delete policies; no read-only role works. Use -SkipRetentionPolicies without it.

    Requires the ExchangeOnlineManagement module (3.x): Install-Module ExchangeOnlineManagement.
    Works in Windows PowerShell 5.1 and PowerShell 7.

.EXAMPLE
    ./export-exchange-audit.ps1 -OutputDirectory ./exo-export -UserPrincipalName admin@contoso.com
    assessor collect --tenant contoso.com --import ./exo-export/*.json --output evidence.json

.EXAMPLE
    # Already connected (Connect-ExchangeOnline / Connect-IPPSSession done by you):
    ./export-exchange-audit.ps1 -SkipConnect
#>
[CmdletBinding()]
param(
    [string]$OutputDirectory = './exchange-export',
    [string]$UserPrincipalName,
    [switch]$SkipRetentionPolicies,
    [switch]$SkipConnect
)

$ErrorActionPreference = 'Stop'

function Get-Value($Object, [string]$Name) {
    # A property's value, or $null when the object does not carry it (older module versions).
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function ConvertTo-Names($Value) {
    # Multi-valued and enum properties as an array of their names ("Owner", "MailItemsAccessed", ...).
    return , @($Value | Where-Object { $null -ne $_ } | ForEach-Object { "$_" })
}

function Write-Export([string]$FileName, $Objects) {
    $path = Join-Path $OutputDirectory $FileName
    # -InputObject @(...) always writes a JSON array ([] when the cmdlet returned nothing).
    $json = ConvertTo-Json -InputObject @($Objects) -Depth 5
    [System.IO.File]::WriteAllText($path, $json, (New-Object System.Text.UTF8Encoding $false))
    Write-Host ('{0,-38} {1} object(s)' -f $FileName, @($Objects).Count)
}

New-Item -ItemType Directory -Force -Path $OutputDirectory | Out-Null
$OutputDirectory = (Resolve-Path $OutputDirectory).Path

if (-not $SkipConnect) {
    $connect = @{ ShowBanner = $false }
    if ($UserPrincipalName) { $connect.UserPrincipalName = $UserPrincipalName }
    Connect-ExchangeOnline @connect
}

# Exchange Online first: in a Security & Compliance session Get-AdminAuditLogConfig always
# reports UnifiedAuditLogIngestionEnabled False, so it must be read from Exchange Online.
$config = Get-AdminAuditLogConfig | ForEach-Object {
    [pscustomobject]@{ UnifiedAuditLogIngestionEnabled = [bool]$_.UnifiedAuditLogIngestionEnabled }
}
Write-Export 'AdminAuditLogConfig.json' $config

$org = Get-OrganizationConfig | ForEach-Object {
    [pscustomobject]@{ AuditDisabled = [bool]$_.AuditDisabled }
}
Write-Export 'OrganizationConfig.json' $org

$bypass = Get-MailboxAuditBypassAssociation -ResultSize Unlimited | ForEach-Object {
    [pscustomobject]@{
        Identity           = "$($_.Identity)"
        Name               = "$($_.Name)"
        AuditBypassEnabled = [bool]$_.AuditBypassEnabled
    }
}
Write-Export 'MailboxAuditBypassAssociation.json' $bypass

$mailboxes = Get-Mailbox -RecipientTypeDetails UserMailbox -ResultSize Unlimited | ForEach-Object {
    [pscustomobject]@{
        UserPrincipalName    = "$($_.UserPrincipalName)"
        ExternalDirectoryObjectId = "$($_.ExternalDirectoryObjectId)"
        RecipientTypeDetails = "$($_.RecipientTypeDetails)"
        AuditEnabled         = [bool]$_.AuditEnabled
        DefaultAuditSet      = ConvertTo-Names $_.DefaultAuditSet
        AuditOwner           = ConvertTo-Names $_.AuditOwner
        AuditDelegate        = ConvertTo-Names $_.AuditDelegate
        AuditAdmin           = ConvertTo-Names $_.AuditAdmin
    }
}
Write-Export 'Mailbox.json' $mailboxes

# What scopes app-only mail access: legacy application access policies and RBAC for Applications.
$policies = Get-ApplicationAccessPolicy | ForEach-Object {
    [pscustomobject]@{
        AppId         = "$($_.AppId)"
        AccessRight   = "$($_.AccessRight)"
        ScopeName     = "$(Get-Value $_ 'ScopeName')"
        ScopeIdentity = "$(Get-Value $_ 'ScopeIdentity')"
    }
}
Write-Export 'ApplicationAccessPolicy.json' $policies

$grants = Get-ManagementRoleAssignment -RoleAssigneeType ServicePrincipal | ForEach-Object {
    [pscustomobject]@{
        Role                = "$($_.Role)"
        RoleAssignee        = "$($_.RoleAssignee)"
        RoleAssigneeName    = "$(Get-Value $_ 'RoleAssigneeName')"
        RoleAssigneeType    = "$($_.RoleAssigneeType)"
        RecipientWriteScope = "$($_.RecipientWriteScope)"
        CustomResourceScope = "$(Get-Value $_ 'CustomResourceScope')"
        Enabled             = [bool]$_.Enabled
    }
}
Write-Export 'ManagementRoleAssignment.json' $grants

$principals = Get-ServicePrincipal | ForEach-Object {
    [pscustomobject]@{
        Identity    = "$($_.Identity)"
        DisplayName = "$($_.DisplayName)"
        AppId       = "$($_.AppId)"
        ObjectId    = "$($_.ObjectId)"
    }
}
Write-Export 'ServicePrincipal.json' $principals

if (-not $SkipRetentionPolicies) {
    if (-not $SkipConnect) {
        $ipps = @{ ShowBanner = $false }
        if ($UserPrincipalName) { $ipps.UserPrincipalName = $UserPrincipalName }
        Connect-IPPSSession @ipps
    }
    $policies = Get-UnifiedAuditLogRetentionPolicy | ForEach-Object {
        $enabled = Get-Value $_ 'Enabled'
        [pscustomobject]@{
            Name              = "$($_.Name)"
            Priority          = [int]$_.Priority
            RetentionDuration = "$($_.RetentionDuration)"
            RecordTypes       = ConvertTo-Names $_.RecordTypes
            Operations        = ConvertTo-Names $_.Operations
            UserIds           = ConvertTo-Names $_.UserIds
            Enabled           = if ($null -eq $enabled) { $true } else { [bool]$enabled }
            Mode              = "$(Get-Value $_ 'Mode')"
            Description       = "$(Get-Value $_ 'Description')"
        }
    }
    Write-Export 'UnifiedAuditLogRetentionPolicy.json' $policies
}

if (-not $SkipConnect) { Disconnect-ExchangeOnline -Confirm:$false }
Write-Host "Done. Pass the files to: assessor collect --tenant <tenant> --import $OutputDirectory/*.json ..."
