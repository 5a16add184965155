; FaceLift Desktop -- Windows installer (Inno Setup 6).          NOT TESTED HERE (built on Linux).
;
; Build on Windows, from the repository root:
;   1. .venv\Scripts\python -m PyInstaller --noconfirm --workpath build\pyinstaller --distpath dist packaging\facelift.spec
;      (on Windows the spec makes dist\facelift-desktop\ with facelift-desktop.exe, windowed, and
;      facelift.exe, a console program, side by side)
;   2. "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\installer\windows\facelift-desktop.iss
;   -> dist\facelift-desktop-0.1.0-setup.exe
; Per-user install by default (no admin rights needed); weights and settings are kept in the
; user's %LOCALAPPDATA% / %APPDATA% folders by the app itself, never in the install folder.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "FaceLift Desktop"
#define AppExe "facelift-desktop.exe"

[Setup]
AppId={{6E0C5F0E-3D7B-4C8E-9B8E-FACE11F7DE5C}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=FaceLift Desktop maintainers
DefaultDirName={autopf}\FaceLift Desktop
DefaultGroupName={#AppName}
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\..\dist
OutputBaseFilename=facelift-desktop-{#AppVersion}-setup
SetupIconFile=..\..\..\resources\icons\facelift-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes
LicenseFile=..\..\..\LICENSE

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"
Name: "addtopath"; Description: "Add the facelift command to PATH"; GroupDescription: "Command line:"; Flags: unchecked

[Files]
Source: "..\..\..\dist\facelift-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; "Open with" for JPEG, PNG and WebP photos.
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueData: """{app}\{#AppExe}"" ""%1"""; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpeg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".webp"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\.jpg\OpenWithList\{#AppExe}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\.jpeg\OpenWithList\{#AppExe}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\.png\OpenWithList\{#AppExe}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\.webp\OpenWithList\{#AppExe}"; Flags: uninsdeletekey
; Optional: the install folder on the user's PATH (for facelift.exe).
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Paths: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Paths) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;
